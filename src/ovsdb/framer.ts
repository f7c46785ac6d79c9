// Incremental JSON framing for OVSDB's byte stream. RFC 7047 sends bare JSON texts one after
// another with no length prefix or delimiter, so a message ends where its outermost object
// (or array) closes. We find that point by scanning bytes with a tiny state machine (depth,
// inside-a-string, after-a-backslash) and only then decode and JSON.parse the message. Each
// byte is scanned once, however the stream is chunked. Working on bytes rather than decoded
// text makes chunks split inside a multi-byte UTF-8 sequence harmless: no byte of such a
// sequence (all >= 0x80) can be mistaken for a quote, brace or bracket.
import { ErrorCode, NetswitchError } from '../model/errors.ts';

/** Default largest message accepted: a full Open_vSwitch dump of a big host is a few MB. */
export const DEFAULT_MAX_MESSAGE_BYTES = 64 * 1024 * 1024;

const OPEN_BRACE = 0x7b; // {
const CLOSE_BRACE = 0x7d; // }
const OPEN_BRACKET = 0x5b; // [
const CLOSE_BRACKET = 0x5d; // ]
const QUOTE = 0x22; // "
const BACKSLASH = 0x5c; // \

function isWhitespace(b: number): boolean {
  return b === 0x20 || b === 0x0a || b === 0x0d || b === 0x09;
}

export interface FramerOptions {
  /** Largest message in bytes; a longer one is a protocol error (default 64 MiB). */
  maxMessageBytes?: number;
}

export class JsonFramer {
  readonly maxMessageBytes: number;
  /** Earlier chunks' bytes of the message being scanned (copied: callers may reuse buffers). */
  private parts: Buffer[] = [];
  private partsBytes = 0;
  private depth = 0;
  private inString = false;
  private escaped = false;

  constructor(options: FramerOptions = {}) {
    this.maxMessageBytes = options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
  }

  /** True while a message has started but not yet ended (the stream is mid-message). */
  get pending(): boolean {
    return this.depth > 0;
  }

  /**
   * Feed the next bytes of the stream; returns every JSON value completed by them, in order.
   * Throws a NetswitchError on malformed input or an oversized message; the framer is then
   * reset, but the stream it was reading should be considered broken.
   */
  push(chunk: Buffer | string): unknown[] {
    const buf = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk;
    const out: unknown[] = [];
    let start = 0; // where the current message starts in `buf` (0 if it began in an earlier chunk)
    for (let i = 0; i < buf.length; i++) {
      const b = buf[i];
      if (this.depth === 0) {
        if (isWhitespace(b)) continue;
        if (b !== OPEN_BRACE && b !== OPEN_BRACKET) {
          this.reset();
          throw protocolError(`expected '{' at the start of a message, got ${describeByte(b)}`, buf, i);
        }
        this.depth = 1;
        start = i;
        continue;
      }
      if (this.inString) {
        if (this.escaped) this.escaped = false;
        else if (b === BACKSLASH) this.escaped = true;
        else if (b === QUOTE) this.inString = false;
        continue;
      }
      if (b === QUOTE) {
        this.inString = true;
      } else if (b === OPEN_BRACE || b === OPEN_BRACKET) {
        this.depth++;
      } else if (b === CLOSE_BRACE || b === CLOSE_BRACKET) {
        if (--this.depth === 0) out.push(this.complete(buf.subarray(start, i + 1)));
      }
    }
    if (this.depth > 0) {
      const tail = buf.subarray(start);
      this.partsBytes += tail.length;
      this.checkSize();
      this.parts.push(Buffer.from(tail));
    }
    return out;
  }

  /** Forget a partly received message (after a reconnect, for instance). */
  reset(): void {
    this.parts = [];
    this.partsBytes = 0;
    this.depth = 0;
    this.inString = false;
    this.escaped = false;
  }

  private complete(last: Buffer): unknown {
    const bytes = this.parts.length === 0 ? last : Buffer.concat([...this.parts, last]);
    this.partsBytes = bytes.length;
    this.checkSize();
    this.parts = [];
    this.partsBytes = 0;
    const text = bytes.toString('utf8');
    try {
      return JSON.parse(text);
    } catch (e) {
      throw new NetswitchError(ErrorCode.Ovsdb, `OVSDB protocol error: a message is not valid JSON (${(e as Error).message})`, {
        hint: 'the peer is not an OVSDB server, or the stream is corrupted',
        cause: e,
        context: { excerpt: text.slice(0, 200) },
      });
    }
  }

  private checkSize(): void {
    if (this.partsBytes <= this.maxMessageBytes) return;
    const size = this.partsBytes;
    this.reset();
    throw new NetswitchError(ErrorCode.Ovsdb, `OVSDB protocol error: a message exceeds ${this.maxMessageBytes} bytes (${size} so far)`, {
      hint: 'raise maxMessageBytes if the database is really this large, or monitor fewer columns',
      context: { maxMessageBytes: this.maxMessageBytes, size },
    });
  }
}

function describeByte(b: number): string {
  return b >= 0x20 && b < 0x7f ? `'${String.fromCharCode(b)}'` : `byte 0x${b.toString(16).padStart(2, '0')}`;
}

function protocolError(message: string, buf: Buffer, at: number): NetswitchError {
  return new NetswitchError(ErrorCode.Ovsdb, `OVSDB protocol error: ${message}`, {
    hint: 'the peer is not an OVSDB server, or the stream is corrupted',
    context: { excerpt: buf.subarray(at, at + 80).toString('utf8') },
  });
}
