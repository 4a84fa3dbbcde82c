/**
 * Every failure this package reports on purpose. `source` names what was being read (a key file,
 * an .age file, secrets.nix) so the CLI can print one line that says where the problem is.
 */
export class SecretsError extends Error {
  override readonly name = 'SecretsError';
  constructor(
    message: string,
    readonly source?: string,
  ) {
    super(source === undefined ? message : `${source}: ${message}`);
  }
}
