// age encodes stanza arguments and bodies as canonical, unpadded standard base64 and rejects
// anything else; Buffer's decoder is lenient, so canonicity is checked by re-encoding.

export function encodeBase64NoPad(data: Uint8Array): string {
  return Buffer.from(data).toString('base64').replace(/=+$/, '');
}

/** Strict decoder: returns undefined for padding, foreign characters or non-canonical trailing bits. */
export function decodeBase64NoPad(text: string): Uint8Array | undefined {
  if (!/^[A-Za-z0-9+/]*$/.test(text) || text.length % 4 === 1) return undefined;
  const bytes = new Uint8Array(Buffer.from(text, 'base64'));
  return encodeBase64NoPad(bytes) === text ? bytes : undefined;
}

export function base64Url(data: Uint8Array): string {
  return Buffer.from(data).toString('base64url');
}
