import { ok } from "node:assert/strict";
import { cpuClock } from "../../src/bench/cpu.ts";

Deno.test("cpuClock reads this process's CPU time, which grows with work", async () => {
  const clock = await cpuClock();
  ok(clock !== null, "no CPU clock in this runtime");
  const before = clock();
  let x = 0;
  const until = performance.now() + 30;
  while (performance.now() < until) x += Math.sqrt(x + 1);
  ok(x > 0);
  const after = clock();
  ok(after > before, `${before} -> ${after}`);
});
