/** A phase that failed inside the agent: what to show the user and where the rest is. */
export class PhaseFailure extends Error {
  constructor(
    message: string,
    readonly tail: string[],
    readonly logPath: string,
  ) {
    super(message);
    this.name = 'PhaseFailure';
  }
}
