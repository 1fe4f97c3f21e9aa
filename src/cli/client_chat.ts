/**
 * `socklab client chat`: joins a chat server. On a terminal, lines that
 * arrive are printed above the line being typed, which is redrawn; with
 * piped stdin, each line is sent and what arrives is printed until the end
 * of input, plus a short linger.
 *
 * @module
 */
import type { Command } from "commander";
import { formatAddress, parseDuration } from "../net/address.ts";
import { within } from "../net/deadline.ts";
import { ChatClient, type ChatEnd } from "../client/chat.ts";
import { CLEAR_LINE, LineEditor } from "../client/line_editor.ts";
import {
  CHAT_PORT,
  classifyChatLine,
  isValidNickname,
  NICKNAME_RULE,
  parseChatLine,
} from "../protocol/chat.ts";
import { getLogger } from "../log.ts";
import { asUsage, CliError, describeFailure, EXIT_FAILURE, EXIT_OK, usageError } from "./errors.ts";
import { type CliIO, readLines, type Terminal } from "./io.ts";
import { durationOption, parseServers } from "./options.ts";

/** Registers `socklab client chat` on the `client` command. */
export function registerChatClient(
  client: Command,
  io: CliIO,
  setExit: (code: number) => void,
): void {
  client
    .command("chat")
    .description("join a chat server: send what you type, print what the others say")
    .option("--server <host:port>", "the chat server", `127.0.0.1:${CHAT_PORT}`)
    .option("--nick <name>", `your name on joining (${NICKNAME_RULE})`)
    .option("--json", "print each received line as a JSON object: kind, from, text")
    .option("--linger <duration>", "with piped input: time to keep printing after its end", "500ms")
    .option("--timeout <duration>", "connect deadline", "3s")
    .addHelpText(
      "after",
      "\nOn a terminal: type a line and Enter to send it; /help lists the server's commands;" +
        "\nexit, /quit or Ctrl+D quits. Exit status 1 when the server goes." +
        "\n\nExamples:\n  socklab client chat --nick alice\n" +
        "  printf 'hello\\n/who\\n' | socklab client chat --json\n" +
        "  socklab client chat --server 127.0.0.1:8000",
    )
    .action(async (options: ChatClientOptions) => {
      setExit(await runChatClient(options, io));
    });
}

interface ChatClientOptions {
  server: string;
  nick?: string;
  json?: boolean;
  linger: string;
  timeout: string;
}

const DISCONNECTED = "Disconnected from server";

async function runChatClient(options: ChatClientOptions, io: CliIO): Promise<number> {
  const [server] = parseServers([options.server], [CHAT_PORT]);
  const timeoutMs = durationOption(options.timeout, "--timeout");
  const lingerMs = asUsage(() => parseDuration(options.linger));
  if (options.nick !== undefined && !isValidNickname(options.nick)) {
    throw usageError(
      `Cannot use --nick "${options.nick}": use ${NICKNAME_RULE}`,
    );
  }
  const address = formatAddress(server);
  let chat: ChatClient;
  try {
    chat = await ChatClient.connect(server, { timeoutMs });
  } catch (error) {
    throw new CliError(describeFailure(error, { action: "connect", address }));
  }
  getLogger(["socklab", "client", "chat"]).debug("Connected to {address}", { address });
  const show = (line: string) => options.json ? JSON.stringify(classifyChatLine(line)) : line;
  const terminal = io.terminal?.();
  const ended = terminal
    ? await runInteractive(chat, io, terminal, show, options.nick)
    : await runPiped(chat, io, show, options.nick, lingerMs);
  if (ended === "server") {
    (io.err ?? io.out)(`${DISCONNECTED}\n`);
    return EXIT_FAILURE;
  }
  return EXIT_OK;
}

/** True for the lines that mean "I am done": `exit` (as the write-up's client) or `/quit`. */
function quits(line: string): "exit" | "quit" | undefined {
  const text = line.trim();
  if (text.toLowerCase() === "exit") return "exit";
  return parseChatLine(text).kind === "quit" ? "quit" : undefined;
}

/** Piped stdin: each line is sent; at its end, what arrives is printed for `lingerMs` more. */
async function runPiped(
  chat: ChatClient,
  io: CliIO,
  show: (line: string) => string,
  nick: string | undefined,
  lingerMs: number,
): Promise<ChatEnd> {
  const log = getLogger(["socklab", "client", "chat"]);
  const receiving = chat.receive((line) => io.out(show(line) + "\n"));
  if (nick !== undefined) await chat.send(`/nick ${nick}`);
  const input = readLines(io.stdin, () => log.warning("Input line too long; not sent"));
  try {
    while (true) {
      const next = input.next();
      next.catch(() => {}); // stdin may still be read when the server goes
      const result = await Promise.race([next, receiving]);
      if (typeof result === "string") return result; // the server went first
      if (result.done) break;
      const line = result.value;
      const quit = quits(line);
      if (quit === "exit") break;
      if (line.trim() === "") continue;
      await chat.send(line);
      if (quit === "quit") break;
    }
    // The user is done: what arrives meanwhile is still printed, and the
    // server closing now (after /quit, say) is no failure.
    await within(receiving, lingerMs);
    return "client";
  } finally {
    await chat.close();
  }
}

/** A terminal: raw mode, a line editor, received lines printed above the input. */
async function runInteractive(
  chat: ChatClient,
  io: CliIO,
  terminal: Terminal,
  show: (line: string) => string,
  nick: string | undefined,
): Promise<ChatEnd> {
  const editor = new LineEditor({ prompt: "> " });
  const redraw = () => io.out(editor.render(terminal.columns()));
  const stop = Promise.withResolvers<"stop">();
  const onSignal = () => stop.resolve("stop");
  const signals: Deno.Signal[] = Deno.build.os === "windows" ? ["SIGINT"] : ["SIGINT", "SIGTERM"];
  terminal.setRaw(true);
  for (const signal of signals) Deno.addSignalListener(signal, onSignal);
  try {
    io.out(`Connected to ${chat.address}. /help lists the commands; exit or Ctrl+D quits.\r\n`);
    redraw();
    const receiving = chat.receive((line) => {
      io.out(CLEAR_LINE + show(line) + "\r\n");
      redraw();
    });
    if (nick !== undefined) await chat.send(`/nick ${nick}`);
    const buffer = new Uint8Array(4096);
    let pending: Promise<number | null> | null = null;
    while (true) {
      pending ??= io.stdin.read(buffer);
      pending.catch(() => {}); // may settle after the chat has ended
      const result = await Promise.race([pending, receiving, stop.promise]);
      if (result === "server") return "server";
      if (result === "client" || result === "stop") return "client";
      pending = null;
      if (result === null) return "client";
      for (const event of editor.feed(buffer.subarray(0, result))) {
        if (event.kind !== "line") return "client";
        // The line typed stays on screen, whole, as in a plain terminal.
        io.out(CLEAR_LINE + editor.prompt + event.text + "\r\n");
        const quit = quits(event.text);
        if (quit === "exit") return "client";
        if (event.text.trim() !== "") await chat.send(event.text);
        if (quit === "quit") return "client";
      }
      redraw();
    }
  } finally {
    io.out(CLEAR_LINE);
    terminal.setRaw(false);
    for (const signal of signals) Deno.removeSignalListener(signal, onSignal);
    await chat.close();
  }
}
