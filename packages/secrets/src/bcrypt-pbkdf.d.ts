// bcrypt-pbkdf (the OpenSSH KDF, as ssh2 uses it) ships no types.
declare module 'bcrypt-pbkdf' {
  const bcryptPbkdf: {
    /** Fills `key` (keylen bytes); returns 0 on success, -1 on bad arguments. */
    pbkdf(
      pass: Uint8Array,
      passlen: number,
      salt: Uint8Array,
      saltlen: number,
      key: Uint8Array,
      keylen: number,
      rounds: number,
    ): number;
  };
  export default bcryptPbkdf;
}
