/**
 * Terminal and pipe I/O for the command line: results to stdout, input lines
 * from stdin. Injected into commands so tests can drive them.
 *
 * @module
 */
import { LineFramer } from "../net/framing.ts";

/** The streams a command uses. */
export interface CliIO {
  /** Writes text to stdout, whole, before returning. */
  out(text: string): void;
  /** Whether stdin is a terminal (interactive prompts) or a pipe/file. */
  stdinIsTerminal(): boolean;
  /** Reads stdin. */
  stdin: { read(buffer: Uint8Array): Promise<number | null> };
  /** Writes a notice that is not a result to stderr, whole. @default to stdout */
  err?(text: string): void;
  /** The terminal, when stdin and stdout both are one (for line editing). */
  terminal?(): Terminal | undefined;
}

/** A terminal that a command may put in raw mode to edit a line itself. */
export interface Terminal {
  /** Turns raw mode on or off (on: keys arrive one by one, unechoed). */
  setRaw(raw: boolean): void;
  /** The width of the terminal, in columns. */
  columns(): number;
}

const encoder = new TextEncoder();

/** Writes all of `text` (UTF-8) to `writer`, e.g. `Deno.stderr`. */
export function writeAllSync(writer: { writeSync(b: Uint8Array): number }, text: string): void {
  const bytes = encoder.encode(text);
  let offset = 0;
  while (offset < bytes.length) offset += writer.writeSync(bytes.subarray(offset));
}

/**
 * Writes output that a reader may stop taking (`socklab check sum --list |
 * head -3`): once the pipe is closed, the rest is dropped quietly, as a
 * reader that went away wants, instead of failing the command.
 *
 * @example
 * ```ts
 * import { equal } from "node:assert/strict";
 * import { outputTo } from "./io.ts";
 *
 * let calls = 0;
 * const out = outputTo({ writeSync: () => { calls++; throw new Deno.errors.BrokenPipe(); } });
 * out("a\n");
 * out("b\n");
 * equal(calls, 1);
 * ```
 */
export function outputTo(writer: { writeSync(b: Uint8Array): number }): (text: string) => void {
  let closed = false;
  return (text) => {
    if (closed) return;
    try {
      writeAllSync(writer, text);
    } catch (error) {
      if (!(error instanceof Deno.errors.BrokenPipe)) throw error;
      closed = true;
    }
  };
}

/** The process's real stdin and stdout. */
export const processIO: CliIO = {
  out: outputTo(Deno.stdout),
  stdinIsTerminal: () => Deno.stdin.isTerminal(),
  stdin: Deno.stdin,
  err: (text) => writeAllSync(Deno.stderr, text),
  terminal: () =>
    Deno.stdin.isTerminal() && Deno.stdout.isTerminal()
      ? {
        setRaw: (raw) => Deno.stdin.setRaw(raw),
        columns: () => {
          try {
            return Deno.consoleSize().columns;
          } catch {
            return 80;
          }
        },
      }
      : undefined,
};

/** Longest input line accepted from stdin. */
export const MAX_INPUT_LINE_BYTES = 64 * 1024;

/**
 * Reads lines from `reader` (LF or CRLF; the last line may lack one).
 * Over-long lines are reported through `onTooLong` and skipped.
 */
export async function* readLines(
  reader: { read(buffer: Uint8Array): Promise<number | null> },
  onTooLong: () => void = () => {},
): AsyncGenerator<string> {
  const decoder = new TextDecoder();
  const framer = new LineFramer({ maxMessageBytes: MAX_INPUT_LINE_BYTES, oversize: "skip" });
  const buf = new Uint8Array(16 * 1024);
  const lines: string[] = [];
  const keep = (line: Uint8Array) => lines.push(decoder.decode(line));
  while (true) {
    const n = await reader.read(buf);
    if (n === null) {
      framer.flush(keep, onTooLong);
      yield* lines;
      return;
    }
    framer.push(buf.subarray(0, n), keep, onTooLong);
    yield* lines.splice(0);
  }
}
