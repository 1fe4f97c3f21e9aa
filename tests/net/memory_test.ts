import { equal, ok } from "node:assert/strict";
import fc from "fast-check";
import { CrowdWatch, returnMemory } from "../../src/net/memory.ts";

Deno.test("CrowdWatch triggers once a crowd has mostly gone, not on churn", () => {
  const watch = new CrowdWatch(1000);
  // A steady churn of a few connections never triggers.
  for (let i = 0; i < 10_000; i++) equal(watch.update(i % 8), false);
  // 5,000 open, then draining: the first trigger at half, the next once 1,000 more are gone.
  equal(watch.update(5000), false);
  const triggeredAt: number[] = [];
  for (let open = 5000; open >= 0; open -= 10) if (watch.update(open)) triggeredAt.push(open);
  equal(triggeredAt[0], 2500);
  ok(triggeredAt.length <= 3, `${triggeredAt}`);
  ok(triggeredAt.at(-1)! <= 250, `${triggeredAt}`);
});

Deno.test("CrowdWatch never triggers with fewer closes than its threshold, or at 0", () => {
  fc.assert(fc.property(
    fc.array(fc.integer({ min: 0, max: 999 }), { maxLength: 200 }),
    (counts) => {
      const watch = new CrowdWatch(1000);
      return counts.every((open) => !watch.update(open));
    },
  ));
  const never = new CrowdWatch(0);
  equal(never.update(10_000), false);
  equal(never.update(0), false);
});

Deno.test("returnMemory runs a collection in this runtime and reports it", async () => {
  const returned = await returnMemory();
  ok(returned !== null, "no way to collect in this runtime");
  ok(returned.heapBefore > 0 && returned.heapAfter > 0);
  ok(returned.pauseMs >= 0);
});

Deno.test("CrowdWatch triggers once after a burst of short connections, when accepts pause", () => {
  const watch = new CrowdWatch(1000);
  let accepted = 0;
  // 6,000 connections over 60 ticks, a few open at a time: accepting on every tick.
  for (let tick = 0; tick < 60; tick++) {
    accepted += 100;
    equal(watch.update(tick % 4, accepted), false);
  }
  equal(watch.update(0, accepted += 3), true, "the first tick with a trickle of accepts");
  equal(watch.update(0, accepted), false, "once only");
  // A steady churn never pauses: it never triggers.
  for (let tick = 0; tick < 1000; tick++) equal(watch.update(3, accepted += 50), false);
});

Deno.test("CrowdWatch waits out a lull between bursts before it triggers", () => {
  const watch = new CrowdWatch(1000, 4);
  let accepted = 0;
  const burst = () => {
    for (let tick = 0; tick < 60; tick++) equal(watch.update(2, accepted += 100), false);
  };
  burst();
  // Three quiet ticks, then the next burst: a lull, not the end.
  for (let tick = 0; tick < 3; tick++) equal(watch.update(0, accepted += 2), false);
  burst();
  for (let tick = 0; tick < 3; tick++) equal(watch.update(0, accepted), false);
  equal(watch.update(0, accepted), true, "the fourth quiet tick in a row");
  for (let tick = 0; tick < 10; tick++) equal(watch.update(0, accepted), false, "once only");
});
