/**
 * The last `limit` characters of a command's output: what error messages quote. A guest can print
 * without end; memory stays bounded whatever it sends.
 */
export class OutputTail {
  private text = '';
  overflowed = false;

  constructor(private readonly limit = 64 * 1024) {}

  push(chunk: string): void {
    this.text += chunk;
    if (this.text.length > this.limit) {
      this.text = this.text.slice(-this.limit);
      this.overflowed = true;
    }
  }

  toString(): string {
    return this.text;
  }
}
