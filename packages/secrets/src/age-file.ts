// Whole-file age encryption and decryption in memory, binary or ASCII-armored, through typage's
// Encrypter/Decrypter (fleet adds only the ssh-ed25519 and ssh-rsa Recipient/Identity classes),
// plus a header reader that lists stanzas without any key (to tell which recipients a file was
// made for).
import { armor, Decrypter, Encrypter } from 'age-encryption';
import { SecretsError } from './errors.js';
import type { AgeIdentity } from './identities.js';
import type { ParsedRecipient } from './recipients.js';

const ARMOR_BEGIN = '-----BEGIN AGE ENCRYPTED FILE-----';
const VERSION_LINE = 'age-encryption.org/v1';
const NO_MATCH = "no identity matched any of the file's recipients"; // typage's Decrypter

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
  const encrypter = new Encrypter();
  for (const r of recipients) encrypter.addRecipient(r.recipient);
  const binary = await encrypter.encrypt(plaintext);
  return armored ? new TextEncoder().encode(armor.encode(binary)) : binary;
}

export async function decryptSecret(
  data: Uint8Array,
  identities: readonly AgeIdentity[],
  source: string,
): Promise<Uint8Array> {
  const binary = dearmor(data, source);
  // typage reads a header without its MAC line to the end of the input and then fails on a read
  // of the nonce; say what is wrong instead.
  if (headerEnd(binary) === undefined) {
    throw new SecretsError('truncated age header (no "---" MAC line)', source);
  }
  // Identities in order, the first that unwraps a stanza wins; an identity throws only for a
  // stanza that is its own (or malformed), which stops the file.
  const decrypter = new Decrypter();
  for (const identity of identities) decrypter.addIdentity(identity);
  try {
    return await decrypter.decrypt(binary);
  } catch (err) {
    const message = (err as Error).message;
    if (message.includes(NO_MATCH)) {
      const has = readHeader(data, source)
        .stanzas.map((s) => s.slice(0, 2).join(' '))
        .join(', ');
      throw new SecretsError(
        `none of the ${identities.length} identities can decrypt it (stanzas: ${has})`,
        source,
      );
    }
    throw new SecretsError(
      `cannot decrypt: ${PAYLOAD_ERROR.test(message) ? payloadProblem(binary, message) : message}`,
      source,
    );
  }
}

// What typage (and @noble/ciphers under it) throw for a damaged payload, after the header checked out.
const PAYLOAD_ERROR = /invalid tag|"ciphertext"|final chunk is empty|stream ended before reading/;
const CHUNK = 64 * 1024;
const TAG = 16;

/** A damaged payload in words that say what is wrong with the file, not where the library stopped. */
function payloadProblem(binary: Uint8Array, message: string): string {
  // After the header: a 16-byte nonce, then 64 KiB chunks of ciphertext, each with a 16-byte tag;
  // only the last may be shorter, and only an empty file has a chunk of nothing but its tag.
  const sealed = binary.length - (headerEnd(binary) ?? 0) - 16;
  const last = sealed % (CHUNK + TAG);
  if (sealed < TAG || (sealed > TAG && last > 0 && last <= TAG)) return 'payload is truncated';
  if (message.includes('final chunk is empty')) return 'payload ends in an empty chunk';
  return 'payload does not authenticate (corrupt or truncated file)';
}

/** The offset just past the header's MAC line; undefined when there is none. */
function headerEnd(file: Uint8Array): number | undefined {
  const macLine = Buffer.from(file.buffer, file.byteOffset, file.length).indexOf('\n--- ');
  if (macLine < 0) return undefined;
  const end = file.indexOf(0x0a, macLine + 1);
  return end < 0 ? undefined : end + 1;
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
  const end = headerEnd(binary);
  if (end === undefined) throw new SecretsError('truncated age header (no "---" MAC line)', source);
  const stanzas = new TextDecoder()
    .decode(binary.subarray(0, end))
    .split('\n')
    .filter((line) => line.startsWith('-> '))
    .map((line) => line.slice(3).split(' '));
  return { armored: isArmored(data), stanzas };
}
