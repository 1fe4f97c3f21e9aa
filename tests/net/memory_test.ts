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

Deno.test("CrowdWatch takes a trickle on average over the quiet spell, not tick by tick", () => {
  // 4 ticks of 250 ms: at most 40 accepts (1000 / 25 a second, for 1 s).
  const watch = new CrowdWatch(1000, 4);
  let accepted = 0;
  for (let tick = 0; tick < 60; tick++) equal(watch.update(2, accepted += 100), false);
  // Light traffic after the burst, uneven: 15, 3, 15, 3 … (36 per 4 ticks).
  for (let tick = 0; tick < 3; tick++) equal(watch.update(1, accepted += tick % 2 ? 3 : 15), false);
  equal(watch.update(1, accepted += 3), true);
  // More than a trickle never triggers: 11 per tick is 44 per spell.
  for (let tick = 0; tick < 60; tick++) equal(watch.update(2, accepted += 100), false);
  for (let tick = 0; tick < 100; tick++) equal(watch.update(1, accepted += 11), false);
});

Deno.test("CrowdWatch's trickle is a rate: the same whatever the tick", () => {
  // A 5 s quiet spell of 250 ms ticks and of 10 ms ticks: at most 200 accepts (40 a second).
  for (const tickMs of [250, 10]) {
    const ticks = 5000 / tickMs;
    const steady = new CrowdWatch(1000, ticks, tickMs);
    let accepted = 0;
    steady.update(0, accepted += 6000);
    // 50 a second is more than a trickle at either tick.
    for (let t = 0; t < 3 * ticks; t++) {
      equal(steady.update(1, accepted += (50 * tickMs) / 1000), false, `${tickMs} ms ticks`);
    }
    const quiet = new CrowdWatch(1000, ticks, tickMs);
    accepted = 0;
    quiet.update(0, accepted += 6000);
    let fired = -1;
    // 30 a second is a trickle: it fires once the burst is a whole spell behind.
    for (let t = 0; t < 3 * ticks && fired < 0; t++) {
      if (quiet.update(1, accepted += (30 * tickMs) / 1000)) fired = t;
    }
    equal(fired, ticks - 1, `${tickMs} ms ticks`);
  }
});
