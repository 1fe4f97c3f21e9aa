import { deepEqual } from "node:assert/strict";
import { WORKLOADS } from "../../scripts/reliability.ts";
import { formatSumReply, isInSumRange, parseSumRequest } from "../../src/protocol/sum.ts";
import { formatRandomReply } from "../../src/protocol/random.ts";
import { formatAnnouncement, formatMessage, HELP_TEXT } from "../../src/protocol/chat.ts";

const bytes = (text: string) => new TextEncoder().encode(text);

Deno.test("reliability has a workload for every service", () => {
  deepEqual(Object.keys(WORKLOADS).sort(), ["chat", "double", "random", "sum"]);
});

Deno.test("reliability's sum workload wants a reply in range, and none out of range", () => {
  const { request, check } = WORKLOADS.sum;
  let outOfRange = 0;
  for (let n = 0; n < 200; n++) {
    const sent = parseSumRequest(bytes(request(n)));
    if (!sent.ok) throw new Error(`request ${n} does not parse: ${request(n)}`);
    const reply = formatSumReply({ name: "Server of socklab", number: 50 }, sent.message.dialect);
    const inRange = isInSumRange(sent.message.number);
    if (!inRange) outOfRange++;
    deepEqual(check(request(n), reply + "\n"), inRange);
    deepEqual(check(request(n), ""), !inRange);
  }
  deepEqual(outOfRange, 10);
  deepEqual(WORKLOADS.sum.check("Client;25", "Server of socklab;101\n"), false);
  deepEqual(WORKLOADS.sum.check("Client;25", "Server of socklab;50"), false); // no newline
});

Deno.test("reliability's random workload wants ten numbers in 1..100 and nothing else", () => {
  const { check } = WORKLOADS.random;
  deepEqual(check("", formatRandomReply([1, 2, 3, 4, 5, 6, 7, 8, 9, 100])), true);
  deepEqual(check("", formatRandomReply([1, 2, 3, 4, 5, 6, 7, 8, 9, 101])), false);
  deepEqual(check("", formatRandomReply([1, 2, 3])), false);
  deepEqual(check("", ""), false);
});

Deno.test("reliability's chat workload passes over others' lines, not raw control bytes", () => {
  const { check, passOver } = WORKLOADS.chat;
  const help = formatAnnouncement(HELP_TEXT);
  deepEqual(check("/help", help), true);
  deepEqual(passOver!(help), false);
  deepEqual(passOver!(formatMessage("alice", "hi \\033[2J")), true);
  deepEqual(passOver!(formatMessage("alice", "hi \x1b[2J")), false);
  deepEqual(passOver!("<error> Unknown command"), false);
});
