/**
 * `socklab client SERVICE`: one subcommand per service, each in its own
 * `client_SERVICE.ts`.
 *
 * @module
 */
import type { Command } from "commander";
import type { CliIO } from "./io.ts";
import { registerDoubleClient } from "./client_double.ts";
import { registerSumClient } from "./client_sum.ts";
import { registerRandomClient } from "./client_random.ts";
import { registerChatClient } from "./client_chat.ts";

/** Registers `socklab client` and its subcommands on `program`. */
export function registerClientCommand(
  program: Command,
  io: CliIO,
  setExit: (code: number) => void,
): Command {
  const client = program.command("client").description("talk to a server of one service");
  registerDoubleClient(client, io, setExit);
  registerSumClient(client, io, setExit);
  registerRandomClient(client, io, setExit);
  registerChatClient(client, io, setExit);
  return client;
}
