/**
 * Shows bytes from the network as one line of printable text, the way a
 * person debugging a socket wants to see them: `"21\n"`, `"\x00\xff"`.
 *
 * @module
 */

/** Options for {@linkcode escapeBytes}. */
export interface EscapeOptions {
  /**
   * Bytes shown at most; the rest is summarised as `…(+N bytes)`.
   * @default {200}
   */
  limit?: number;
}

const NAMED: Record<number, string> = { 9: "\\t", 10: "\\n", 13: "\\r", 34: '\\"', 92: "\\\\" };

/**
 * Escapes bytes into a double-quoted, single-line string: printable ASCII as
 * is, `\n \r \t \" \\` by name, everything else as `\xHH`.
 *
 * @example
 * ```ts
 * import { deepEqual } from "node:assert/strict";
 * import { escapeBytes } from "./escape.ts";
 *
 * deepEqual(escapeBytes(new Uint8Array([50, 49, 10, 0])), '"21\\n\\x00"');
 * ```
 */
export function escapeBytes(bytes: Uint8Array, options: EscapeOptions = {}): string {
  const limit = options.limit ?? 200;
  const shown = Math.min(bytes.length, limit);
  let out = '"';
  for (let i = 0; i < shown; i++) {
    const b = bytes[i];
    const named = NAMED[b];
    if (named !== undefined) out += named;
    else if (b >= 0x20 && b < 0x7f) out += String.fromCharCode(b);
    else out += "\\x" + b.toString(16).padStart(2, "0");
  }
  out += '"';
  if (bytes.length > shown) out += `…(+${bytes.length - shown} bytes)`;
  return out;
}

const encoder = new TextEncoder();

/** Escapes a string as {@linkcode escapeBytes} escapes its UTF-8 bytes. */
export function escapeText(text: string, options: EscapeOptions = {}): string {
  return escapeBytes(encoder.encode(text), options);
}
