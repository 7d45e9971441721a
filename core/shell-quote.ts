/** Quote one word for a POSIX shell (local.Command runs its command line through `sh -c`). */
export function shellQuote(word: string): string {
    return /^[A-Za-z0-9_./:=@%+-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

export function shellCommand(argv: readonly string[]): string {
    return argv.map(shellQuote).join(" ");
}
