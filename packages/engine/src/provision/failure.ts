/** A failed agent as the user sees it: what failed, its last lines of output, where the rest is. */
export function describeFailure(f: {
  step: string;
  message: string;
  tail: string[];
  logPath: string;
}): string {
  const tail = f.tail.length > 0 ? `\n  last lines:\n    ${f.tail.join('\n    ')}` : '';
  return `${f.step} failed: ${f.message}${tail}\n  full log: ${f.logPath}`;
}
