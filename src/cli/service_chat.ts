/**
 * The chat service as `socklab server` runs it: its flags, and the operator
 * console on the server's stdin.
 *
 * @module
 */
import type { Command } from "commander";
import { ChatService, runChatConsole } from "../server/chat.ts";
import { CHAT_PORT, DEFAULT_MAX_CLIENTS } from "../protocol/chat.ts";
import { parseIntegerOption } from "../net/address.ts";
import { getLogger } from "../log.ts";
import { readLines } from "./io.ts";
import type { ServiceContext, ServiceEntry } from "./services.ts";

/** The chat entry of the service registry. */
export const chatEntry: ServiceEntry = {
  name: "chat",
  defaultPorts: [CHAT_PORT],
  summary: "relays each line to every other client, with names (write-up 004)",
  // A chat client may only read for hours: it is not idle.
  defaultIdleTimeoutMs: 0,
  addOptions(command: Command): void {
    command
      .option("--raw", "chat: relay each chunk unchanged, as the write-up's server (no names)")
      .option(
        "--max-clients <n>",
        "chat: clients at once; past it, a one-line refusal",
        String(DEFAULT_MAX_CLIENTS),
      )
      .option("--no-console", "chat: do not read operator lines ('Server: ...') from stdin");
  },
  create(options: Record<string, unknown>, context: ServiceContext): ChatService {
    const chat = new ChatService({
      raw: options.raw === true,
      maxClients: parseIntegerOption(
        String(options.maxClients ?? DEFAULT_MAX_CLIENTS),
        "--max-clients",
        1,
        1_000_000,
      ),
      maxLineBytes: typeof options.maxLineBytes === "string"
        ? parseIntegerOption(options.maxLineBytes, "--max-line-bytes", 16, 1 << 24)
        : undefined,
    });
    context.signal.addEventListener("abort", () => chat.announceClosing(), { once: true });
    if (options.console !== false) startConsole(chat, context);
    return chat;
  },
};

function startConsole(chat: ChatService, context: ServiceContext): void {
  const log = getLogger(["socklab", "server", "chat"]);
  if (context.io.stdinIsTerminal()) {
    log.info("Operator console: each line typed here goes to every client; exit stops the server");
  }
  const lines = readLines(
    context.io.stdin,
    () => log.warn("Operator console: input line too long; skipped"),
  );
  runChatConsole(chat, {
    lines,
    signal: context.signal,
    requestShutdown: context.requestShutdown,
  });
}
