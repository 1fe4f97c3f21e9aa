import { equal, ok } from "node:assert/strict";
import type { Command } from "commander";
import { buildProgram } from "../../src/cli/main.ts";
import type { CliIO } from "../../src/cli/io.ts";

const io: CliIO = {
  out: () => {},
  stdinIsTerminal: () => false,
  stdin: { read: () => Promise.resolve(null) },
};

function* allCommands(command: Command): Generator<Command> {
  yield command;
  for (const sub of command.commands) yield* allCommands(sub);
}

Deno.test("every command's help names a default a person can read, wrapped at 80 columns", () => {
  const program = buildProgram(io, () => {});
  let count = 0;
  for (const command of allCommands(program)) {
    const help = command.helpInformation({ error: false });
    const name = command.name();
    ok(!help.includes("(default: [])"), `${name}: an empty list shown as a default`);
    ok(!/\(default: [^)]*\) \(default:/.test(help), `${name}: two defaults for one option`);
    // Option and argument descriptions wrap; only the examples and notes after them may run long.
    const listed =
      help.split(/\n\n(?=Examples?:|Services|Each listener|On a terminal|The client)/)[0];
    for (const line of listed.split("\n")) {
      ok(line.length <= 80, `${name}: a help line of ${line.length} columns: ${line}`);
    }
    count++;
  }
  equal(count >= 10, true, `only ${count} commands found`);
});
