// Whole-file age encryption and decryption in memory, binary or ASCII-armored, plus a header
// reader that lists stanzas without any key (to tell which recipients a file was made for).
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { armor } from 'age-encryption';
import { decryptPayload, encodeAgeFile, headerMac, parseHeader, splitHeader } from './age-format.js';
import { SecretsError } from './errors.js';
import { type AgeIdentity, toIdentity } from './identities.js';
import type { ParsedRecipient } from './recipients.js';

const ARMOR_BEGIN = '-----BEGIN AGE ENCRYPTED FILE-----';
const VERSION_LINE = 'age-encryption.org/v1';

export function isArmored(data: Uint8Array): boolean {
  const head = new TextDecoder().decode(data.subarray(0, 128)).trimStart();
  return head.startsWith(ARMOR_BEGIN);
}

function dearmor(data: Uint8Array, source: string): Uint8Array {
  if (!isArmored(data)) return data;
  try {
    return armor.decode(new TextDecoder().decode(data));
  } catch (err) {
    throw new SecretsError(`invalid armor: ${(err as Error).message}`, source);
  }
}

export async function encryptSecret(
  plaintext: Uint8Array,
  recipients: readonly ParsedRecipient[],
  armored: boolean,
): Promise<Uint8Array> {
  if (recipients.length === 0) throw new SecretsError('refusing to encrypt to an empty recipient list');
  const fileKey = new Uint8Array(randomBytes(16));
  const stanzas = (await Promise.all(recipients.map((r) => r.recipient.wrapFileKey(fileKey)))).flat();
  const binary = encodeAgeFile(fileKey, stanzas, plaintext);
  fileKey.fill(0);
  return armored ? new TextEncoder().encode(armor.encode(binary)) : binary;
}

export async function decryptSecret(
  data: Uint8Array,
  identities: readonly AgeIdentity[],
  source: string,
): Promise<Uint8Array> {
  const parts = splitHeader(dearmor(data, source));
  if (parts === undefined) throw new SecretsError('truncated age header (no "---" MAC line)', source);
  try {
    const header = parseHeader(parts.header);
    // Like typage's Decrypter: identities in order, the first that unwraps a stanza wins; an
    // identity throws only for a stanza that is its own (or malformed), which stops the file.
    let fileKey: Uint8Array | null = null;
    for (const identity of identities) {
      fileKey = await toIdentity(identity).unwrapFileKey(header.stanzas);
      if (fileKey !== null) break;
    }
    if (fileKey === null) throw new Error("no identity matched any of the file's recipients");
    try {
      const mac = headerMac(fileKey, header.headerNoMac);
      if (header.mac.length !== mac.length || !timingSafeEqual(header.mac, mac)) {
        throw new Error('invalid header HMAC');
      }
      return decryptPayload(fileKey, parts.payload);
    } finally {
      fileKey.fill(0);
    }
  } catch (err) {
    const message = (err as Error).message;
    if (message.includes('no identity matched')) {
      const header = readHeader(data, source);
      const has = header.stanzas.map((s) => s.slice(0, 2).join(' ')).join(', ');
      throw new SecretsError(
        `none of the ${identities.length} identities can decrypt it (stanzas: ${has})`,
        source,
      );
    }
    throw new SecretsError(`cannot decrypt: ${message}`, source);
  }
}

export interface AgeHeader {
  armored: boolean;
  /** Each stanza's arguments, e.g. ["ssh-ed25519", TAG, SHARE] or ["X25519", SHARE]. */
  stanzas: string[][];
}

/** Reads stanza arguments only; bodies and the MAC are left to the decrypter. */
export function readHeader(data: Uint8Array, source: string): AgeHeader {
  const binary = dearmor(data, source);
  if (new TextDecoder().decode(binary.subarray(0, VERSION_LINE.length + 1)) !== `${VERSION_LINE}\n`) {
    throw new SecretsError(`not an age file (missing ${VERSION_LINE} line)`, source);
  }
  const parts = splitHeader(binary);
  if (parts === undefined) throw new SecretsError('truncated age header (no "---" MAC line)', source);
  const stanzas = new TextDecoder()
    .decode(parts.header)
    .split('\n')
    .filter((line) => line.startsWith('-> '))
    .map((line) => line.slice(3).split(' '));
  return { armored: isArmored(data), stanzas };
}
