import { deepEqual } from "node:assert/strict";
import { SERVICES } from "../../src/cli/services.ts";

Deno.test("socklab server with no service starts double, sum and random on their default ports", () => {
  // `socklab server` with no service name runs every entry of SERVICES.
  const ports = Object.fromEntries(SERVICES.map((entry) => [entry.name, [...entry.defaultPorts]]));
  deepEqual(
    { double: ports.double, sum: ports.sum, random: ports.random },
    { double: [9001, 9002, 9003], sum: [5001], random: [27679] },
  );
});
