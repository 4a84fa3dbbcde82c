// The SSH wire encoding (RFC 4251 section 5): uint32 lengths in front of strings and mpints.
// Public keys are hashed in this encoding for age stanza tags, so it must be byte-exact.

export class WireReader {
  private pos = 0;
  constructor(
    private readonly buf: Uint8Array,
    private readonly what: string,
  ) {}

  get done(): boolean {
    return this.pos === this.buf.length;
  }

  uint32(): number {
    if (this.pos + 4 > this.buf.length) throw new Error(`${this.what} is truncated`);
    const b = this.buf;
    const p = this.pos;
    this.pos += 4;
    // biome-ignore lint/style/noNonNullAssertion: bounds checked above
    return ((b[p]! << 24) | (b[p + 1]! << 16) | (b[p + 2]! << 8) | b[p + 3]!) >>> 0;
  }

  bytes(): Uint8Array {
    const len = this.uint32();
    if (this.pos + len > this.buf.length) throw new Error(`${this.what} is truncated`);
    const out = this.buf.subarray(this.pos, this.pos + len);
    this.pos += len;
    return out;
  }

  string(): string {
    return new TextDecoder().decode(this.bytes());
  }

  /** An mpint as unsigned big-endian bytes without the sign-padding zero byte. */
  mpint(): Uint8Array {
    const raw = this.bytes();
    let start = 0;
    while (start < raw.length && raw[start] === 0) start++;
    return raw.subarray(start);
  }
}

export function wireString(data: Uint8Array | string): Uint8Array {
  const body = typeof data === 'string' ? new TextEncoder().encode(data) : data;
  const out = new Uint8Array(4 + body.length);
  new DataView(out.buffer).setUint32(0, body.length);
  out.set(body, 4);
  return out;
}

/** Unsigned big-endian integer as an mpint: a leading zero byte keeps the top bit from meaning "negative". */
export function wireMpint(unsigned: Uint8Array): Uint8Array {
  let start = 0;
  while (start < unsigned.length && unsigned[start] === 0) start++;
  const trimmed = unsigned.subarray(start);
  const needsPad = trimmed.length > 0 && (trimmed[0] ?? 0) >= 0x80;
  return wireString(needsPad ? concat([new Uint8Array([0]), trimmed]) : trimmed);
}

export function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}
