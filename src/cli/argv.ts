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

/** The value of --state-dir (or --state-dir=DIR), as commander will read it; undefined when not given. */
export function stateDirOption(args: readonly string[]): string | undefined {
  let dir: string | undefined;
  for (let i = 0; i < args.length && args[i] !== '--'; i++) {
    if (args[i] === '--state-dir') dir = args[++i];
    else if (args[i].startsWith('--state-dir=')) dir = args[i].slice('--state-dir='.length);
  }
  return dir;
}

/** Whether the command line asks for help (which changes and reads nothing). */
export function wantsHelp(args: readonly string[]): boolean {
  const end = args.indexOf('--');
  return (end < 0 ? args : args.slice(0, end)).some((a) => a === '-h' || a === '--help');
}
