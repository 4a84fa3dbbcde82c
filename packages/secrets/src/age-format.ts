// The age v1 file format around the stanzas (C2SP age spec): header text with its HMAC, and the
// STREAM payload (ChaCha20-Poly1305 over 64 KiB chunks). typage has all of this, but only behind a
// WHATWG-streams pipeline that costs ~1 ms per file each way; a rekey touches every file twice,
// so the framing is done here on whole buffers. Header parsing, identity matching and MAC checking
// on decryption stay with typage (Decrypter.decryptHeader).
import { randomBytes } from 'node:crypto';
import { chacha20poly1305 } from '@noble/ciphers/chacha.js';
import { hkdf } from '@noble/hashes/hkdf.js';
import { hmac } from '@noble/hashes/hmac.js';
import { sha256 } from '@noble/hashes/sha2.js';
import type { Stanza } from 'age-encryption';
import { encodeBase64NoPad } from './base64.js';
import { concat } from './ssh-wire.js';

const CHUNK = 64 * 1024;
const TAG = 16;
const encoder = new TextEncoder();

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
  return hkdf(sha256, fileKey, nonce, encoder.encode('payload'), 32);
}

/** A complete binary age file: header for `stanzas`, MAC, nonce, encrypted chunks. */
export function encodeAgeFile(
  fileKey: Uint8Array,
  stanzas: readonly Stanza[],
  plaintext: Uint8Array,
): Uint8Array {
  const headerNoMac = encoder.encode(encodeHeaderNoMac(stanzas));
  const mac = hmac(sha256, hkdf(sha256, fileKey, undefined, encoder.encode('header'), 32), headerNoMac);
  const nonce = new Uint8Array(randomBytes(16));
  const key = payloadKey(fileKey, nonce);
  const parts = [headerNoMac, encoder.encode(` ${encodeBase64NoPad(mac)}\n`), nonce];
  // Always at least one chunk (an empty file is one empty final chunk); a full last chunk is final itself.
  const chunks = Math.max(1, Math.ceil(plaintext.length / CHUNK));
  for (let i = 0; i < chunks; i++) {
    const chunk = plaintext.subarray(i * CHUNK, (i + 1) * CHUNK);
    parts.push(chacha20poly1305(key, chunkNonce(i, i === chunks - 1)).encrypt(chunk));
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
      plain = chacha20poly1305(key, chunkNonce(i, last)).decrypt(sealed);
    } catch {
      throw new Error(`payload chunk ${i} does not authenticate (corrupt or truncated file)`);
    }
    // Only an empty file may end in an empty chunk (age rejects it otherwise).
    if (last && plain.length === 0 && i > 0) throw new Error('payload ends in an empty chunk');
    out.push(plain);
  }
  return concat(out);
}
