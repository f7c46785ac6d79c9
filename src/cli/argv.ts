// What the CLI can tell from its command line before commander has loaded.

/** The command word of a netswitch command line: the first word that is not an option. */
export function commandWord(args: readonly string[]): string | undefined {
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === '--') return args[i + 1];
    if (a === '--state-dir' || a === '-o' || a === '--output') i++; // the option's value
    else if (!a.startsWith('-')) return a;
  }
  return undefined;
}
