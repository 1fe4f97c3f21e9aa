import { deepEqual } from "node:assert/strict";
import { SERVICES } from "../../src/cli/services.ts";

Deno.test("socklab server with no service starts double, sum, random and chat on their default ports", () => {
  // `socklab server` with no service name runs every entry of SERVICES.
  const ports = Object.fromEntries(SERVICES.map((entry) => [entry.name, [...entry.defaultPorts]]));
  deepEqual(ports, { double: [9001, 9002, 9003], sum: [5001], random: [27679], chat: [8000] });
});
