/**
 * The chat service on the server core: every line a client sends goes to
 * every other client, with names, announcements and commands (as ncat's chat
 * mode); `raw` relays each chunk unchanged, as the write-up's server does.
 * Sending never waits on a client: each has its own bounded output queue in
 * the core, and one that falls too far behind is disconnected there.
 *
 * @module
 */
import {
  alreadyConnectedAnnouncement,
  chatFullError,
  checkNickChange,
  CLOSING_ANNOUNCEMENT,
  DEFAULT_MAX_CLIENTS,
  escapeChatText,
  formatAction,
  formatAnnouncement,
  formatError,
  formatMessage,
  formatServerLine,
  HELP_TEXT,
  joinAnnouncement,
  leaveAnnouncement,
  lineTooLongError,
  nicknameKey,
  parseChatLine,
  renameAnnouncement,
  unknownCommandError,
  whoReply,
} from "../protocol/chat.ts";
import { DEFAULT_MAX_MESSAGE_BYTES, type Terminator } from "../net/framing.ts";
import type { Peer, Service, Session } from "../net/server.ts";
import { escapeBytes } from "../net/escape.ts";
import { getLogger, logText } from "../log.ts";

/** Options for {@linkcode ChatService}. */
export interface ChatServiceOptions {
  /** Relay each chunk unchanged: no names, no announcements, no commands. @default {false} */
  raw?: boolean;
  /** Clients at once; past it, a one-line refusal. @default {1000} */
  maxClients?: number;
  /** The server's line size limit, for the notice about an over-long line. @default {8192} */
  maxLineBytes?: number;
}

interface Member {
  readonly peer: Peer;
  readonly host: string;
  name: string;
  /** Lines to this client end with CRLF once it has sent one so (telnet). */
  crlf: boolean;
}

const encoder = new TextEncoder();
/** The longest excerpt of a line that goes to the log. */
const LOG_EXCERPT = 200;

/** The host part of `127.0.0.1:5000` or `[::1]:5000`. */
function hostOf(remote: string): string {
  const colon = remote.lastIndexOf(":");
  const host = colon > 0 ? remote.slice(0, colon) : remote;
  return host.startsWith("[") && host.endsWith("]") ? host.slice(1, -1) : host;
}

function excerpt(text: string): string {
  return text.length <= LOG_EXCERPT
    ? text
    : `${text.slice(0, LOG_EXCERPT)}…(+${text.length - LOG_EXCERPT} chars)`;
}

/**
 * The chat room: one instance serves every listener it is given to, so
 * clients on any of them talk together.
 *
 * @example
 * ```ts
 * import { ChatService } from "./chat.ts";
 * import { serve } from "../net/server.ts";
 *
 * const chat = new ChatService();
 * const server = serve(chat, { port: 0 });
 * chat.serverLine("hello, whoever is there");
 * await server.shutdown();
 * ```
 */
export class ChatService implements Service {
  /** Always `chat`. */
  readonly name = "chat";
  /** `raw` relays chunks as read; otherwise the shared line framing. */
  readonly framing: "lines" | "raw";
  readonly #raw: boolean;
  readonly #maxClients: number;
  readonly #maxLineBytes: number;
  /** In the order they came. */
  readonly #members = new Set<Member>();
  readonly #byName = new Map<string, Member>();
  readonly #log = getLogger(["socklab", "server", "chat"]);
  #nextUser = 1;
  #closing = false;

  /** An empty chat room. */
  constructor(options: ChatServiceOptions = {}) {
    this.#raw = options.raw ?? false;
    this.framing = this.#raw ? "raw" : "lines";
    this.#maxClients = options.maxClients ?? DEFAULT_MAX_CLIENTS;
    this.#maxLineBytes = options.maxLineBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
  }

  /** Clients in the chat now. */
  get clientCount(): number {
    return this.#members.size;
  }

  /** Starts a client's session (called by the server core). */
  open(peer: Peer): Session {
    if (this.#members.size >= this.#maxClients) {
      this.#log.warn("Refused {remote}: the chat is full ({max} clients)", {
        remote: peer.remote,
        max: this.#maxClients,
      });
      peer.sendText(chatFullError(this.#maxClients) + "\n");
      peer.end();
      return {};
    }
    const member: Member = { peer, host: hostOf(peer.remote), name: "", crlf: false };
    return this.#raw ? this.#openRaw(member) : this.#openNamed(member);
  }

  /** Sends a line typed at the operator console to every client. */
  serverLine(line: string): void {
    if (this.#raw) {
      this.#log.info("Server: {text}", { text: excerpt(escapeBytes(encoder.encode(line))) });
      const bytes = encoder.encode(formatServerLine(line));
      for (const member of this.#members) member.peer.send(bytes);
      return;
    }
    const text = formatServerLine(escapeChatText(encoder.encode(line)));
    this.#log.info("{line} ({count} connected)", {
      line: excerpt(text),
      count: this.#members.size,
    });
    this.#broadcast(text);
  }

  /**
   * Tells every client the server is closing (nothing in raw mode, as the
   * write-up's server), and stops announcing departures. Safe to call again.
   */
  announceClosing(): void {
    if (this.#closing) return;
    this.#closing = true;
    if (!this.#raw) this.#broadcast(CLOSING_ANNOUNCEMENT);
  }

  #openRaw(member: Member): Session {
    const { peer } = member;
    this.#members.add(member);
    this.#log.info("{remote} connected ({count} connected)", {
      remote: peer.remote,
      count: this.#members.size,
    });
    return {
      chunk: (chunk) => {
        logText(this.#log, "info", `${peer.remote}: ${escapeBytes(chunk)}`);
        for (const other of this.#members) if (other !== member) other.peer.send(chunk);
      },
      closed: () => {
        if (!this.#members.delete(member)) return;
        this.#log.info("{remote} disconnected ({count} connected)", {
          remote: peer.remote,
          count: this.#members.size,
        });
      },
    };
  }

  #openNamed(member: Member): Session {
    member.name = `user${this.#nextUser++}`;
    const others = [...this.#members].map(({ host, name }) => ({ host, name }));
    this.#members.add(member);
    this.#byName.set(nicknameKey(member.name), member);
    const joined = joinAnnouncement(member.host, member.name, this.#members.size);
    this.#log.info("{line} [{remote}]", { line: joined, remote: member.peer.remote });
    this.#broadcast(joined);
    this.#sendTo(member, alreadyConnectedAnnouncement(others));
    return {
      message: (bytes, terminator) => this.#onLine(member, bytes, terminator),
      oversize: () => {
        this.#log.info("<{name}> sent a line longer than {limit} bytes: not relayed", {
          name: member.name,
          limit: this.#maxLineBytes,
        });
        this.#sendTo(member, lineTooLongError(this.#maxLineBytes));
        return "skip";
      },
      closed: () => this.#leave(member),
    };
  }

  #onLine(member: Member, bytes: Uint8Array, terminator: Terminator): void {
    if (terminator !== "none") member.crlf = terminator === "crlf";
    if (!this.#members.has(member)) return;
    const command = parseChatLine(escapeChatText(bytes));
    switch (command.kind) {
      case "empty":
        return;
      case "say":
        return this.#say(member, formatMessage(member.name, command.text));
      case "me":
        return this.#say(member, formatAction(member.name, command.action));
      case "nick":
        return this.#rename(member, command.name);
      case "who":
        return this.#sendTo(member, whoReply([...this.#members].map((m) => m.name), member.name));
      case "help":
        return this.#sendTo(member, formatAnnouncement(HELP_TEXT));
      case "quit":
        this.#leave(member);
        member.peer.end();
        return;
      case "usage":
        return this.#sendTo(member, formatError(command.error));
      case "unknown":
        return this.#sendTo(member, unknownCommandError(command.command));
    }
  }

  #say(member: Member, line: string): void {
    logText(this.#log, "info", excerpt(line));
    this.#broadcast(line, member);
  }

  #rename(member: Member, requested: string): void {
    const change = checkNickChange(requested, member.name, (key) => this.#byName.has(key));
    if (!change.ok) {
      this.#sendTo(member, formatError(change.error));
      return;
    }
    const previous = member.name;
    this.#byName.delete(nicknameKey(previous));
    member.name = change.name;
    this.#byName.set(nicknameKey(change.name), member);
    const line = renameAnnouncement(previous, change.name, this.#members.size);
    this.#log.info("{line}", { line });
    this.#broadcast(line);
  }

  #leave(member: Member): void {
    if (!this.#members.delete(member)) return;
    this.#byName.delete(nicknameKey(member.name));
    const line = leaveAnnouncement(member.name, this.#members.size);
    this.#log.info("{line} [{remote}]", { line, remote: member.peer.remote });
    if (!this.#closing) this.#broadcast(line);
  }

  #sendTo(member: Member, line: string): void {
    member.peer.sendText(member.crlf ? `${line}\r\n` : `${line}\n`);
  }

  /** Queues `line` for every client but `except`; never waits on any of them. */
  #broadcast(line: string, except?: Member): void {
    const lf = encoder.encode(`${line}\n`);
    let crlf: Uint8Array | undefined;
    for (const member of this.#members) {
      if (member === except) continue;
      member.peer.send(member.crlf ? (crlf ??= encoder.encode(`${line}\r\n`)) : lf);
    }
  }
}

/** What the operator console needs from the command that runs the server. */
export interface ChatConsoleOptions {
  /** The lines typed by the operator (the server's stdin, split into lines). */
  lines: AsyncIterable<string>;
  /** Aborted when the server begins to shut down: the console stops reading. */
  signal: AbortSignal;
  /** Stops the server gracefully (the operator typed `exit`). */
  requestShutdown(reason: string): void;
}

/**
 * The operator console: each line goes to every client as `Server: <line>`;
 * `exit` tells the clients the server is closing and shuts it down. End of
 * input only ends the console (the server keeps running, as when it runs in
 * the background with stdin on /dev/null). Resolves once the console has
 * stopped: at end of input, on `exit`, or when `signal` aborts (a read under
 * way is then left behind: it is the process's stdin, which cannot be
 * cancelled; the process exits without waiting for it).
 *
 * @example
 * ```ts
 * import { ChatService, runChatConsole } from "./chat.ts";
 *
 * async function* typed() {
 *   yield "hello";
 * }
 * await runChatConsole(new ChatService(), {
 *   lines: typed(),
 *   signal: new AbortController().signal,
 *   requestShutdown: () => {},
 * });
 * ```
 */
export async function runChatConsole(
  chat: ChatService,
  options: ChatConsoleOptions,
): Promise<void> {
  const log = getLogger(["socklab", "server", "chat"]);
  const { signal } = options;
  if (signal.aborted) return;
  const { promise: aborted, resolve } = Promise.withResolvers<"aborted">();
  const onAbort = () => resolve("aborted");
  signal.addEventListener("abort", onAbort, { once: true });
  const lines = options.lines[Symbol.asyncIterator]();
  try {
    while (true) {
      const next = lines.next();
      next.catch(() => {}); // may settle after the console has stopped
      const result = await Promise.race([next, aborted]);
      if (result === "aborted") return;
      if (result.done) {
        log.debug("Operator console: end of input; the server keeps running");
        return;
      }
      const line = result.value;
      const command = line.trim();
      if (command === "") continue;
      if (command.toLowerCase() === "exit") {
        log.info("Operator typed exit: closing the chat");
        chat.announceClosing();
        options.requestShutdown("the operator typed exit");
        return;
      }
      chat.serverLine(line);
    }
  } catch (error) {
    log.warn("Operator console stopped: {error}", {
      error: error instanceof Error ? error.message : String(error),
    });
  } finally {
    signal.removeEventListener("abort", onAbort);
  }
}
