/** Quotes one word for a POSIX shell (the remote side of an SSH exec runs one). */
export function shq(word: string): string {
  return /^[A-Za-z0-9_@%+=:,./#-]+$/.test(word) ? word : `'${word.replaceAll("'", `'\\''`)}'`;
}
