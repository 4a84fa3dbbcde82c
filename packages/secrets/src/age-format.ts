// The age v1 file format around the stanzas (C2SP age spec): header text with its HMAC, and the
// STREAM payload (ChaCha20-Poly1305 over 64 KiB chunks). typage has all of this, but only behind a
// WHATWG-streams pipeline that costs ~1 ms per file each way; a rekey touches every file twice,
// so the framing, header parsing and MAC are done here on whole buffers, with OpenSSL primitives.
import { randomBytes } from 'node:crypto';
import { Stanza } from 'age-encryption';
import { decodeBase64NoPad, encodeBase64NoPad } from './base64.js';
import { chachaOpen, chachaSeal, hkdfSha256, hmacSha256 } from './primitives.js';
import { concat } from './ssh-wire.js';

const CHUNK = 64 * 1024;
const TAG = 16;
const encoder = new TextEncoder();
const PAYLOAD_LABEL = encoder.encode('payload');
const HEADER_LABEL = encoder.encode('header');

function encodeHeaderNoMac(stanzas: readonly Stanza[]): string {
  let text = 'age-encryption.org/v1\n';
  for (const s of stanzas) {
    text += `-> ${s.args.join(' ')}\n`;
    // Body lines are 64 columns (48 bytes); a short (possibly empty) last line ends the body.
    for (let i = 0; ; i += 48) {
      const line = s.body.subarray(i, i + 48);
      text += `${encodeBase64NoPad(line)}\n`;
      if (line.length < 48) break;
    }
  }
  return `${text}---`;
}

function chunkNonce(counter: number, last: boolean): Uint8Array {
  const nonce = new Uint8Array(12);
  new DataView(nonce.buffer).setUint32(7, counter); // 11-byte big-endian counter; files here stay far below 2^32 chunks
  nonce[11] = last ? 1 : 0;
  return nonce;
}

function payloadKey(fileKey: Uint8Array, nonce: Uint8Array): Uint8Array {
  return hkdfSha256(fileKey, nonce, PAYLOAD_LABEL);
}

/** The header MAC: HMAC-SHA-256 under HKDF(file key, "header") over the header up to "---". */
export function headerMac(fileKey: Uint8Array, headerNoMac: Uint8Array): Uint8Array {
  const key = hkdfSha256(fileKey, undefined, HEADER_LABEL);
  try {
    return hmacSha256(key, headerNoMac);
  } finally {
    key.fill(0);
  }
}

/** A complete binary age file: header for `stanzas`, MAC, nonce, encrypted chunks. */
export function encodeAgeFile(
  fileKey: Uint8Array,
  stanzas: readonly Stanza[],
  plaintext: Uint8Array,
): Uint8Array {
  const headerNoMac = encoder.encode(encodeHeaderNoMac(stanzas));
  const mac = headerMac(fileKey, headerNoMac);
  const nonce = new Uint8Array(randomBytes(16));
  const key = payloadKey(fileKey, nonce);
  const parts: Uint8Array[] = [headerNoMac, encoder.encode(` ${encodeBase64NoPad(mac)}\n`), nonce];
  // Always at least one chunk (an empty file is one empty final chunk); a full last chunk is final itself.
  const chunks = Math.max(1, Math.ceil(plaintext.length / CHUNK));
  for (let i = 0; i < chunks; i++) {
    const chunk = plaintext.subarray(i * CHUNK, (i + 1) * CHUNK);
    parts.push(chachaSeal(key, chunkNonce(i, i === chunks - 1), chunk));
  }
  return concat(parts);
}

/** Splits a binary age file after the header's MAC line; undefined when there is no MAC line. */
export function splitHeader(file: Uint8Array): { header: Uint8Array; payload: Uint8Array } | undefined {
  const macLine = Buffer.from(file.buffer, file.byteOffset, file.length).indexOf('\n--- ');
  if (macLine < 0) return undefined;
  const end = file.indexOf(0x0a, macLine + 1);
  if (end < 0) return undefined;
  return { header: file.subarray(0, end + 1), payload: file.subarray(end + 1) };
}

/** Decrypts the payload; throws on truncation, trailing data or any chunk that fails to authenticate. */
export function decryptPayload(fileKey: Uint8Array, payload: Uint8Array): Uint8Array {
  if (payload.length < 16 + TAG) throw new Error('payload is truncated');
  const key = payloadKey(fileKey, payload.subarray(0, 16));
  const body = payload.subarray(16);
  const out: Uint8Array[] = [];
  for (let i = 0, off = 0; off < body.length; i++, off += CHUNK + TAG) {
    const last = body.length - off <= CHUNK + TAG;
    const sealed = body.subarray(off, off + CHUNK + TAG);
    if (sealed.length < TAG) throw new Error('payload is truncated');
    let plain: Uint8Array;
    try {
      plain = chachaOpen(key, chunkNonce(i, last), sealed);
    } catch {
      throw new Error(`payload chunk ${i} does not authenticate (corrupt or truncated file)`);
    }
    // Only an empty file may end in an empty chunk (age rejects it otherwise).
    if (last && plain.length === 0 && i > 0) throw new Error('payload ends in an empty chunk');
    out.push(plain);
  }
  return concat(out);
}

export interface ParsedHeader {
  stanzas: Stanza[];
  /** The header bytes the MAC covers: everything up to and including "---". */
  headerNoMac: Uint8Array;
  mac: Uint8Array;
}

function decodeBase64Strict(text: string, what: string): Uint8Array {
  const bytes = decodeBase64NoPad(text); // canonical unpadded base64 only, as age requires
  if (bytes === undefined) throw new Error(`invalid ${what}`);
  return bytes;
}

/**
 * Parses a header as splitHeader returns it (ending with the MAC line), with the same rules as
 * typage's parseHeader: version line, stanzas of non-empty arguments whose base64 body lines are
 * 64 columns except a shorter last one, then "--- " and the MAC.
 */
export function parseHeader(header: Uint8Array): ParsedHeader {
  const text = Buffer.from(header.buffer, header.byteOffset, header.length).toString('latin1');
  if (!text.endsWith('\n')) throw new Error('invalid header');
  const lines = text.slice(0, -1).split('\n');
  if (lines[0] !== 'age-encryption.org/v1') throw new Error(`invalid version ${lines[0] ?? 'line'}`);
  const stanzas: Stanza[] = [];
  let i = 1;
  for (;;) {
    const line = lines[i++];
    if (line === undefined) throw new Error('invalid header');
    if (line.startsWith('-> ')) {
      const args = line.slice(3).split(' ');
      if (args.some((arg) => arg.length === 0)) throw new Error('invalid stanza');
      const body: Uint8Array[] = [];
      for (;;) {
        const bodyLine = lines[i++];
        if (bodyLine === undefined) throw new Error('invalid stanza');
        const bytes = decodeBase64Strict(bodyLine, 'stanza');
        if (bytes.length > 48) throw new Error('invalid stanza');
        body.push(bytes);
        if (bytes.length < 48) break;
      }
      stanzas.push(new Stanza(args, concat(body)));
      continue;
    }
    if (!line.startsWith('--- ') || i !== lines.length) throw new Error('invalid header');
    const mac = decodeBase64Strict(line.slice(4), 'header MAC');
    // The MAC covers the header through "---", not the space or the MAC itself.
    const headerNoMac = header.subarray(0, header.length - 1 - line.length + 3);
    return { stanzas, headerNoMac, mac };
  }
}
