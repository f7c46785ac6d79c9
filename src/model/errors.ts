// One error type for the whole project: a code callers branch on, the path of the field it
// concerns (`networks.net1.vlan`), a sentence for the user and a hint on what to do.

export const ErrorCode = {
  /** The request is malformed or contradicts itself or the host. Nothing was changed. */
  Invalid: 'E_INVALID',
  /** An external program failed. */
  Command: 'E_COMMAND',
  /** The apply failed and the host was rolled back to the checkpoint. */
  RolledBack: 'E_ROLLED_BACK',
  /** The apply failed and the rollback did not restore the checkpoint exactly. */
  RollbackFailed: 'E_ROLLBACK_FAILED',
  /** Another apply holds the lock. */
  Busy: 'E_BUSY',
  /** Reading the host failed or found something unexpected. */
  Host: 'E_HOST',
  /** An OVSDB request failed. */
  Ovsdb: 'E_OVSDB',
  /** A timeout elapsed. */
  Timeout: 'E_TIMEOUT',
  /** A sandbox operation failed. */
  Sandbox: 'E_SANDBOX',
  /** Anything else: a bug or an unexpected state. */
  Internal: 'E_INTERNAL',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/** One problem of a request, as validation reports it. */
export interface Issue {
  path: string;
  message: string;
  hint: string;
}

export interface NetswitchErrorOptions {
  path?: string;
  hint?: string;
  issues?: readonly Issue[];
  cause?: unknown;
  context?: Record<string, unknown>;
}

export class NetswitchError extends Error {
  readonly code: ErrorCode;
  readonly path: string | undefined;
  readonly hint: string | undefined;
  /** For E_INVALID: every problem found, not just the first. */
  readonly issues: readonly Issue[];
  readonly context: Record<string, unknown>;

  constructor(code: ErrorCode, message: string, options: NetswitchErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'NetswitchError';
    this.code = code;
    this.path = options.path;
    this.hint = options.hint;
    this.issues = options.issues ?? [];
    this.context = options.context ?? {};
  }

  toJSON(): Record<string, unknown> {
    return {
      code: this.code,
      message: this.message,
      ...(this.path === undefined ? {} : { path: this.path }),
      ...(this.hint === undefined ? {} : { hint: this.hint }),
      ...(this.issues.length ? { issues: this.issues } : {}),
    };
  }
}

export function isNetswitchError(e: unknown, code?: ErrorCode): e is NetswitchError {
  return e instanceof NetswitchError && (code === undefined || e.code === code);
}

/** An invalid-request error carrying every issue found. */
export function invalid(issues: readonly Issue[]): NetswitchError {
  const first = issues[0];
  const message =
    issues.length === 1 ? `${first.path}: ${first.message}` : `the request has ${issues.length} problems`;
  return new NetswitchError(ErrorCode.Invalid, message, { path: first?.path, hint: first?.hint, issues });
}
