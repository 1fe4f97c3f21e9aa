/**
 * A small line editor for a terminal in raw mode: the chat client uses it so
 * that lines arriving while the user types are printed above the line being
 * typed, which is then redrawn, never mangled. Pure: bytes in, events and
 * screen text out.
 *
 * @module
 */

/** What the keys typed so far amount to. */
export type EditorEvent =
  /** Enter: the line typed (without its end). */
  | { kind: "line"; text: string }
  /** Ctrl+D on an empty line: end of input. */
  | { kind: "end" }
  /** Ctrl+C. */
  | { kind: "interrupt" };

/** Options for {@linkcode LineEditor}. */
export interface LineEditorOptions {
  /** Shown before the input. @default {"> "} */
  prompt?: string;
  /** Longest input, in characters; keys past it are ignored. @default {8000} */
  maxChars?: number;
}

/** Clears the terminal's current line and returns to its start. */
export const CLEAR_LINE = "\r\x1b[K";

/**
 * Edits one line from raw keyboard bytes: printable text (UTF-8) is added;
 * Backspace, Ctrl+U (clear) and Ctrl+W (delete a word) edit; Enter submits;
 * escape sequences (arrows, function keys) and other control keys are
 * ignored, so nothing typed can move the cursor elsewhere.
 *
 * @example
 * ```ts
 * import { deepEqual } from "node:assert/strict";
 * import { LineEditor } from "./line_editor.ts";
 *
 * const editor = new LineEditor();
 * const keys = new TextEncoder().encode("hellp\x7fo\r");
 * deepEqual(editor.feed(keys), [{ kind: "line", text: "hello" }]);
 * ```
 */
export class LineEditor {
  /** Shown before the input. */
  readonly prompt: string;
  readonly #maxChars: number;
  readonly #decoder = new TextDecoder();
  #chars: string[] = [];
  #escape: "none" | "esc" | "csi" | "ss3" = "none";
  #afterCR = false;

  /** An empty line, with the given prompt. */
  constructor(options: LineEditorOptions = {}) {
    this.prompt = options.prompt ?? "> ";
    this.#maxChars = options.maxChars ?? 8000;
  }

  /** The input typed so far. */
  get text(): string {
    return this.#chars.join("");
  }

  /** Takes keyboard bytes; returns what they complete, in order. */
  feed(bytes: Uint8Array): EditorEvent[] {
    const events: EditorEvent[] = [];
    for (const char of this.#decoder.decode(bytes, { stream: true })) {
      const afterCR = this.#afterCR;
      this.#afterCR = false;
      if (this.#escape !== "none") {
        this.#skipEscape(char);
        continue;
      }
      switch (char) {
        case "\x1b":
          this.#escape = "esc";
          break;
        case "\r":
          this.#afterCR = true;
          events.push(this.#submit());
          break;
        case "\n":
          if (!afterCR) events.push(this.#submit());
          break;
        case "\x7f":
        case "\b":
          this.#chars.pop();
          break;
        case "\x15": // Ctrl+U
          this.#chars = [];
          break;
        case "\x17": // Ctrl+W
          while (this.#chars.length > 0 && this.#chars.at(-1) === " ") this.#chars.pop();
          while (this.#chars.length > 0 && this.#chars.at(-1) !== " ") this.#chars.pop();
          break;
        case "\x03": // Ctrl+C
          events.push({ kind: "interrupt" });
          break;
        case "\x04": // Ctrl+D
          if (this.#chars.length === 0) events.push({ kind: "end" });
          break;
        case "\t":
          this.#add(" ");
          break;
        default: {
          const code = char.codePointAt(0)!;
          if (code >= 0x20 && code !== 0x7f && !(code >= 0x80 && code <= 0x9f)) this.#add(char);
        }
      }
    }
    return events;
  }

  /**
   * The text that shows the prompt and the input on the current line. Input
   * too wide for the terminal shows its end, after `…`, so it never wraps.
   */
  render(columns: number): string {
    const room = Math.max(columns - this.prompt.length - 1, 8);
    const shown = this.#chars.length <= room
      ? this.text
      : "…" + this.#chars.slice(this.#chars.length - room + 1).join("");
    return CLEAR_LINE + this.prompt + shown;
  }

  #submit(): EditorEvent {
    const text = this.text;
    this.#chars = [];
    return { kind: "line", text };
  }

  #add(char: string): void {
    if (this.#chars.length < this.#maxChars) this.#chars.push(char);
  }

  /** Drops an escape sequence: ESC x, ESC [ params final, ESC O x. */
  #skipEscape(char: string): void {
    const code = char.codePointAt(0)!;
    switch (this.#escape) {
      case "esc":
        this.#escape = char === "[" ? "csi" : char === "O" ? "ss3" : "none";
        break;
      case "csi":
        if (code >= 0x40 && code <= 0x7e) this.#escape = "none";
        break;
      case "ss3":
        this.#escape = "none";
        break;
    }
  }
}
