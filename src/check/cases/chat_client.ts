/**
 * Conformance cases for a chat client (write-up 004): socklab plays the
 * chat server (named mode), joins as a second client, and checks that a
 * line typed at the client reaches it and that its own line is shown by the
 * client.
 *
 * @module
 */
import { ChatService } from "../../server/chat.ts";
import { connect } from "../../net/client.ts";
import type { ClientCase, ClientScenario, DriveSession } from "../client_runner.ts";
import { Probe } from "../probe.ts";
import { fail, PASS } from "../types.ts";
import { crashed, describeExit, outputOf } from "./_client_common.ts";

const TYPED = "hello from the client";
const SENT_BY_PEER = "ping from the other client";
const STEP_MS = 3000;

/** Joins as a second client, waits for the typed line, answers, waits for it to be shown. */
async function drive(session: DriveSession): Promise<void> {
  const conn = await connect({ hostname: "127.0.0.1", port: session.port }, STEP_MS);
  const until = () => performance.now() + STEP_MS;
  let deadline = until();
  const peer = new Probe(conn, () => Math.max(0, deadline - performance.now()));
  try {
    // The client connects as soon as it starts; give it a moment to join, then type.
    await session.write(TYPED + "\n");
    let received = "";
    while (!received.includes(TYPED)) {
      const outcome = await peer.read();
      if (outcome.kind !== "message") break;
      received += outcome.text + "\n";
    }
    session.record.notes.peerReceived = received.includes(TYPED);
    deadline = until();
    await peer.send(SENT_BY_PEER + "\n");
    session.record.notes.shown = await session.waitForOutput(SENT_BY_PEER, STEP_MS);
  } finally {
    await peer.close();
  }
}

const CASES: readonly ClientCase[] = [
  {
    id: "client-chat/send/delivered",
    requirement: "A line typed at the client reaches the other clients.",
    judge: ([record]) =>
      record.notes.peerReceived === true
        ? PASS
        : fail(`"${TYPED}" received by the other client`, "it never arrived"),
  },
  {
    id: "client-chat/send/exact-bytes",
    strictOnly: true,
    requirement: "The typed line is sent in one piece with no newline (the write-up's client).",
    judge: ([record]) => {
      const sent = record.messages.find((m) => new TextDecoder().decode(m.bytes).includes(TYPED));
      if (!sent) return fail(`"${TYPED}"`, "never sent");
      const text = new TextDecoder().decode(sent.bytes);
      return text === TYPED && sent.terminator === "none" ? PASS : fail(
        `"${TYPED}" exactly`,
        JSON.stringify(text + { lf: "\n", crlf: "\r\n", none: "" }[sent.terminator]),
      );
    },
  },
  {
    id: "client-chat/receive/shown",
    requirement: "A line from another client is shown by the client while it runs.",
    judge: ([record]) =>
      record.notes.shown === true
        ? PASS
        : fail(`output showing "${SENT_BY_PEER}"`, outputOf(record)),
  },
  {
    id: "client-chat/exit/end-of-input",
    requirement:
      "At the end of its input (or on exit), the client closes and ends by itself, without a crash.",
    judge: ([record]) => {
      if (record.exitCode === null) return fail("the client ends by itself", describeExit(record));
      if (crashed(record)) return fail("a clean exit", outputOf(record));
      return record.closedByClient >= 1 ? PASS : fail("its connection closed", "left open");
    },
  },
];

/** The chat client scenario: type a line, receive one, then end of input. */
export const CHAT_CLIENT: ClientScenario = {
  runs: [{ input: "", service: () => new ChatService(), drive }],
  cases: CASES,
};
