// The CLI's log: human lines on stderr, so stdout stays machine-readable (-o json).
export interface Log {
  info(message: string): void;
  debug(message: string): void;
  warn(message: string): void;
}

export function stderrLog(level: 'quiet' | 'info' | 'debug' = 'info'): Log {
  const write = (m: string) => process.stderr.write(`${m}\n`);
  return {
    info: (m) => level !== 'quiet' && write(m),
    debug: (m) => level === 'debug' && write(m),
    warn: (m) => write(`warning: ${m}`),
  };
}

export const silentLog: Log = { info() {}, debug() {}, warn() {} };
