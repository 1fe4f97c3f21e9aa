/**
 * socklab: classic socket services and the tools to test anyone's.
 * The only place that reads `Deno.args` and exits.
 *
 * @module
 */
import { runCli } from "./src/cli/main.ts";

if (import.meta.main) {
  globalThis.addEventListener("unhandledrejection", (event) => {
    event.preventDefault();
    const reason = event.reason instanceof Error ? event.reason.message : String(event.reason);
    console.error(`socklab: internal error: ${reason.split("\n")[0]}`);
  });
  Deno.exit(await runCli(Deno.args));
}
