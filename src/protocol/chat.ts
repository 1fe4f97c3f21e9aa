/**
 * The chat service (write-up 004): nicknames, commands, the lines the server
 * sends, the escaping of control bytes, and how a client tells received lines
 * apart. Pure rules, no I/O: used by the server, the client and the tests.
 *
 * The lines follow ncat's chat mode, the tool people know: `<user5> text`,
 * `<announce> 127.0.0.1 is connected as <user5> (2 connected).`, control
 * bytes shown as `\ooo`. The operator console's lines keep the write-up's
 * form, `Server: text`.
 *
 * @module
 */

/** The chat server's default port (the write-up's code; its text says 8080). */
export const CHAT_PORT = 8000;

/** Clients in the chat at once, by default. */
export const DEFAULT_MAX_CLIENTS = 1000;

/** The longest nickname. */
export const MAX_NICKNAME_LENGTH = 32;

/** What a nickname may hold, as the errors and the help say it. */
export const NICKNAME_RULE = `1-${MAX_NICKNAME_LENGTH} letters, digits, '_', '.' or '-'`;

const NAME = `[A-Za-z0-9_.-]{1,${MAX_NICKNAME_LENGTH}}`;
const NICKNAME = new RegExp(`^${NAME}$`);
/** Names whose lines would look like the server's own. */
const RESERVED = new Set(["announce", "error", "server"]);
/** The names the server gives: `user<N>`. */
const AUTOMATIC = /^user\d+$/i;

/**
 * Whether `name` is a well-formed nickname: 1-32 ASCII letters, digits,
 * `_`, `.` or `-`.
 *
 * @example
 * ```ts
 * import { deepEqual } from "node:assert/strict";
 * import { isValidNickname } from "./chat.ts";
 *
 * deepEqual(isValidNickname("alice_2.0"), true);
 * deepEqual(isValidNickname("no spaces"), false);
 * ```
 */
export function isValidNickname(name: string): boolean {
  return NICKNAME.test(name);
}

/**
 * The key under which a nickname is unique: nicknames differing only in case
 * are the same name (`Alice` cannot join while `alice` is there).
 *
 * @example
 * ```ts
 * import { deepEqual } from "node:assert/strict";
 * import { nicknameKey } from "./chat.ts";
 *
 * deepEqual(nicknameKey("Alice"), nicknameKey("alice"));
 * ```
 */
export function nicknameKey(name: string): string {
  return name.toLowerCase();
}

/** The outcome of a `/nick` request: the new name, or the error line's text. */
export type NickChange = { ok: true; name: string } | { ok: false; error: string };

/**
 * Judges a `/nick NAME` request: well formed, not reserved (`announce`,
 * `error`, `server`, or the server's own `user<N>` names), not taken by
 * someone else (`isTaken` receives the {@linkcode nicknameKey}).
 *
 * @example
 * ```ts
 * import { deepEqual } from "node:assert/strict";
 * import { checkNickChange } from "./chat.ts";
 *
 * deepEqual(checkNickChange("alice", "user1", () => false), { ok: true, name: "alice" });
 * deepEqual(checkNickChange("alice", "user1", () => true).ok, false);
 * ```
 */
export function checkNickChange(
  requested: string,
  current: string,
  isTaken: (key: string) => boolean,
): NickChange {
  if (!isValidNickname(requested)) {
    return {
      ok: false,
      error: `Cannot use the name ${quote(requested)}: use ${NICKNAME_RULE}.`,
    };
  }
  if (requested === current) return { ok: false, error: `You are already <${current}>.` };
  const key = nicknameKey(requested);
  if (RESERVED.has(key)) {
    return { ok: false, error: `Cannot use the name <${requested}>: it is reserved.` };
  }
  if (AUTOMATIC.test(requested) && key !== nicknameKey(current)) {
    return {
      ok: false,
      error: `Cannot use the name <${requested}>: names user<N> are given by the server.`,
    };
  }
  if (key !== nicknameKey(current) && isTaken(key)) {
    return { ok: false, error: `Cannot use the name <${requested}>: it is taken.` };
  }
  return { ok: true, name: requested };
}

/** What one line from a client asks for. */
export type ChatCommand =
  /** A line for everyone else. */
  | { kind: "say"; text: string }
  /** `/nick NAME`. */
  | { kind: "nick"; name: string }
  /** `/who`: who is connected, to the sender only. */
  | { kind: "who" }
  /** `/me ACTION`: `* name ACTION` to everyone else. */
  | { kind: "me"; action: string }
  /** `/quit`: leave the chat. */
  | { kind: "quit" }
  /** `/help`: the commands, to the sender only. */
  | { kind: "help" }
  /** A known command used wrongly; `error` is the line to send back. */
  | { kind: "usage"; error: string }
  /** A command that does not exist. */
  | { kind: "unknown"; command: string }
  /** A blank line: nothing to do. */
  | { kind: "empty" };

const COMMAND = /^\/(\S*)(?:[ \t]+(.*))?$/s;

/**
 * Reads one line (already escaped, see {@linkcode escapeChatText}) as a
 * command or a message. Command names are case-insensitive; a line starting
 * with `//` is a message starting with `/`.
 *
 * @example
 * ```ts
 * import { deepEqual } from "node:assert/strict";
 * import { parseChatLine } from "./chat.ts";
 *
 * deepEqual(parseChatLine("/nick alice"), { kind: "nick", name: "alice" });
 * deepEqual(parseChatLine("hello"), { kind: "say", text: "hello" });
 * deepEqual(parseChatLine("//etc"), { kind: "say", text: "/etc" });
 * ```
 */
export function parseChatLine(line: string): ChatCommand {
  if (line.trim() === "") return { kind: "empty" };
  if (!line.startsWith("/")) return { kind: "say", text: line };
  if (line.startsWith("//")) return { kind: "say", text: line.slice(1) };
  const match = COMMAND.exec(line.trimEnd());
  const name = (match?.[1] ?? "").toLowerCase();
  const argument = (match?.[2] ?? "").trim();
  switch (name) {
    case "nick":
      return argument === ""
        ? { kind: "usage", error: `Usage: /nick NAME (${NICKNAME_RULE}).` }
        : { kind: "nick", name: argument };
    case "who":
      return { kind: "who" };
    case "me":
      return argument === ""
        ? { kind: "usage", error: "Usage: /me ACTION." }
        : { kind: "me", action: argument };
    case "quit":
      return { kind: "quit" };
    case "help":
      return { kind: "help" };
    default:
      return { kind: "unknown", command: `/${match?.[1] ?? line.slice(1)}` };
  }
}

/** The one line `/help` sends back. */
export const HELP_TEXT: string = `Commands: /nick NAME (${NICKNAME_RULE}), /who, /me ACTION, ` +
  "/quit, /help. Start a line with // to send one starting with /.";

/** How a received line is read by a client (`--json`). */
export interface ReceivedChatLine {
  /** `message` from a client, `announcement` or `error` from the server, `server` from its operator. */
  kind: "message" | "announcement" | "server" | "error";
  /** The client who wrote it, when known. */
  from: string | null;
  /** The text, without the name or the marker. */
  text: string;
  /** True for a `/me` action (`* alice waves`). */
  action?: boolean;
}

const MESSAGE_LINE = new RegExp(`^<(${NAME})> ?(.*)$`, "s");
const ACTION_LINE = new RegExp(`^\\* (${NAME}) (.*)$`, "s");

/**
 * Classifies one received line. Lines that follow none of the forms (the
 * write-up's server relays raw text with no name) are messages from nobody
 * known.
 *
 * @example
 * ```ts
 * import { deepEqual } from "node:assert/strict";
 * import { classifyChatLine } from "./chat.ts";
 *
 * deepEqual(classifyChatLine("<alice> hi"), { kind: "message", from: "alice", text: "hi" });
 * deepEqual(classifyChatLine("Server: closing soon"), { kind: "server", from: null, text: "closing soon" });
 * ```
 */
export function classifyChatLine(line: string): ReceivedChatLine {
  if (line.startsWith("<announce> ")) {
    return { kind: "announcement", from: null, text: line.slice("<announce> ".length) };
  }
  if (line.startsWith("<error> ")) {
    return { kind: "error", from: null, text: line.slice("<error> ".length) };
  }
  if (line.startsWith("Server: ")) {
    return { kind: "server", from: null, text: line.slice("Server: ".length) };
  }
  const message = MESSAGE_LINE.exec(line);
  if (message) return { kind: "message", from: message[1], text: message[2] };
  const action = ACTION_LINE.exec(line);
  if (action) return { kind: "message", from: action[1], text: action[2], action: true };
  return { kind: "message", from: null, text: line };
}

/**
 * A client's line as the others see it: `<alice> text`.
 *
 * @example
 * ```ts
 * import { deepEqual } from "node:assert/strict";
 * import { formatMessage } from "./chat.ts";
 *
 * deepEqual(formatMessage("alice", "hi"), "<alice> hi");
 * ```
 */
export function formatMessage(from: string, text: string): string {
  return `<${from}> ${text}`;
}

/** A `/me` action as the others see it: `* alice waves`. */
export function formatAction(from: string, action: string): string {
  return `* ${from} ${action}`;
}

/** A line from the server about the chat: `<announce> text`. */
export function formatAnnouncement(text: string): string {
  return `<announce> ${text}`;
}

/** A line from the server to one client that did something wrong: `<error> text`. */
export function formatError(text: string): string {
  return `<error> ${text}`;
}

/**
 * A line typed at the server's operator console, as every client sees it
 * (the write-up's form).
 *
 * @example
 * ```ts
 * import { deepEqual } from "node:assert/strict";
 * import { formatServerLine } from "./chat.ts";
 *
 * deepEqual(formatServerLine("back in 5"), "Server: back in 5");
 * ```
 */
export function formatServerLine(text: string): string {
  return `Server: ${text}`;
}

function connected(count: number): string {
  return `(${count} connected)`;
}

/**
 * Announces a new client to everyone, as ncat does, with the count.
 *
 * @example
 * ```ts
 * import { deepEqual } from "node:assert/strict";
 * import { joinAnnouncement } from "./chat.ts";
 *
 * deepEqual(
 *   joinAnnouncement("127.0.0.1", "user5", 2),
 *   "<announce> 127.0.0.1 is connected as <user5> (2 connected).",
 * );
 * ```
 */
export function joinAnnouncement(host: string, name: string, count: number): string {
  return formatAnnouncement(`${host} is connected as <${name}> ${connected(count)}.`);
}

/** Announces that a client left, with the count of those still there. */
export function leaveAnnouncement(name: string, count: number): string {
  return formatAnnouncement(`<${name}> is disconnected ${connected(count)}.`);
}

/** Announces a change of name, with the count. */
export function renameAnnouncement(from: string, to: string, count: number): string {
  return formatAnnouncement(`<${from}> is now known as <${to}> ${connected(count)}.`);
}

/**
 * Tells a newcomer who was already there, as ncat does.
 *
 * @example
 * ```ts
 * import { deepEqual } from "node:assert/strict";
 * import { alreadyConnectedAnnouncement } from "./chat.ts";
 *
 * deepEqual(alreadyConnectedAnnouncement([]), "<announce> already connected: nobody.");
 * deepEqual(
 *   alreadyConnectedAnnouncement([{ host: "127.0.0.1", name: "user4" }]),
 *   "<announce> already connected: 127.0.0.1 as <user4>.",
 * );
 * ```
 */
export function alreadyConnectedAnnouncement(
  others: readonly { host: string; name: string }[],
): string {
  const list = others.length === 0
    ? "nobody"
    : others.map(({ host, name }) => `${host} as <${name}>`).join(", ");
  return formatAnnouncement(`already connected: ${list}.`);
}

/**
 * The answer to `/who`: everyone, in the order they came, the asker marked.
 *
 * @example
 * ```ts
 * import { deepEqual } from "node:assert/strict";
 * import { whoReply } from "./chat.ts";
 *
 * deepEqual(whoReply(["alice", "user2"], "user2"), "<announce> 2 connected: <alice>, <user2> (you).");
 * ```
 */
export function whoReply(names: readonly string[], self: string): string {
  const list = names.map((name) => name === self ? `<${name}> (you)` : `<${name}>`).join(", ");
  return formatAnnouncement(`${names.length} connected: ${list}.`);
}

/** Tells every client the server is closing. */
export const CLOSING_ANNOUNCEMENT: string = formatAnnouncement("The server is closing.");

/** The one line a client past `--max-clients` gets before it is closed. */
export function chatFullError(maxClients: number): string {
  return formatError(`The chat is full (${maxClients} clients); try again later.`);
}

/** The notice a client gets for a line past the size limit (not relayed). */
export function lineTooLongError(maxLineBytes: number): string {
  return formatError(`Line longer than ${maxLineBytes} bytes: not sent.`);
}

/** The error a client gets for a command that does not exist. */
export function unknownCommandError(command: string): string {
  return formatError(`Unknown command ${quote(command)}; /help lists the commands.`);
}

/** Shows a user-supplied value in an error line, shortened when long. */
function quote(text: string, max = 40): string {
  const chars = Array.from(text);
  return chars.length <= max ? `"${text}"` : `"${chars.slice(0, max).join("")}…"`;
}

const decoder = new TextDecoder();

function octal(byte: number): string {
  return "\\" + byte.toString(8).padStart(3, "0");
}

function isPlainAscii(bytes: Uint8Array): boolean {
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i];
    if ((b < 0x20 && b !== 0x09) || b >= 0x7f) return false;
  }
  return true;
}

/** Length of the valid UTF-8 sequence at `i`, or 0 if there is none. */
function sequenceLength(bytes: Uint8Array, i: number): number {
  const b = bytes[i];
  const cont = (k: number) => i + k < bytes.length && (bytes[i + k] & 0xc0) === 0x80;
  if (b >= 0xc2 && b <= 0xdf) return cont(1) ? 2 : 0;
  if (b >= 0xe0 && b <= 0xef) {
    if (!cont(1) || !cont(2)) return 0;
    const b1 = bytes[i + 1];
    if (b === 0xe0 && b1 < 0xa0) return 0; // overlong
    if (b === 0xed && b1 >= 0xa0) return 0; // surrogate
    return 3;
  }
  if (b >= 0xf0 && b <= 0xf4) {
    if (!cont(1) || !cont(2) || !cont(3)) return 0;
    const b1 = bytes[i + 1];
    if (b === 0xf0 && b1 < 0x90) return 0; // overlong
    if (b === 0xf4 && b1 >= 0x90) return 0; // past U+10FFFF
    return 4;
  }
  return 0;
}

/**
 * Turns bytes from the network into text that is safe to show and relay, as
 * ncat's chat mode does: control bytes become `\ooo` (octal), so nobody can
 * move another user's cursor, clear their screen or fake a line. Escaped:
 * C0 controls but tab (CR and LF included), DEL, C1 controls (U+0080-U+009F)
 * and bytes that are not UTF-8. Unlike ncat, valid UTF-8 text (accents,
 * other scripts) is kept as is.
 *
 * @example
 * ```ts
 * import { deepEqual } from "node:assert/strict";
 * import { escapeChatText } from "./chat.ts";
 *
 * const bytes = new Uint8Array([0x68, 0x69, 0x1b, 0x5b, 0x32, 0x4a, 0xc3, 0xa9, 0xff]);
 * deepEqual(escapeChatText(bytes), "hi\\033[2Jé\\377");
 * ```
 */
export function escapeChatText(bytes: Uint8Array): string {
  if (isPlainAscii(bytes)) return decoder.decode(bytes);
  let out = "";
  let runStart = 0;
  let i = 0;
  const escape = (from: number, to: number) => {
    out += decoder.decode(bytes.subarray(runStart, from));
    for (let k = from; k < to; k++) out += octal(bytes[k]);
    runStart = to;
  };
  while (i < bytes.length) {
    const b = bytes[i];
    if (b < 0x80) {
      if ((b < 0x20 && b !== 0x09) || b === 0x7f) escape(i, i + 1);
      i++;
      continue;
    }
    const length = sequenceLength(bytes, i);
    if (length === 0) {
      escape(i, i + 1);
      i++;
    } else {
      // C1 controls are U+0080-U+009F: 0xC2 0x80-0x9F.
      if (b === 0xc2 && bytes[i + 1] <= 0x9f) escape(i, i + 2);
      i += length;
    }
  }
  out += decoder.decode(bytes.subarray(runStart));
  return out;
}
