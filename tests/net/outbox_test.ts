import { deepEqual, equal } from "node:assert/strict";
import { type ByteWriter, Outbox } from "../../src/net/outbox.ts";

const decoder = new TextDecoder();

/**
 * A writer whose writes wait until `complete()`, after which every write
 * completes at once; it keeps the views it was given.
 */
function heldWriter(): ByteWriter & { views: Uint8Array[]; complete(): void } {
  const views: Uint8Array[] = [];
  const waiting: Array<() => void> = [];
  let held = true;
  return {
    views,
    write(bytes) {
      views.push(bytes);
      if (!held) return Promise.resolve(bytes.length);
      return new Promise((resolve) => waiting.push(() => resolve(bytes.length)));
    },
    complete() {
      held = false;
      for (const done of waiting.splice(0)) done();
    },
  };
}

/** A writer that takes everything at once and keeps a copy. */
function copyingWriter(): ByteWriter & { text(): string } {
  let text = "";
  return {
    write(bytes) {
      text += decoder.decode(bytes);
      return Promise.resolve(bytes.length);
    },
    text: () => text,
  };
}

Deno.test("Outbox writes what is queued in order, in as few writes as it can", async () => {
  const writer = heldWriter();
  const outbox = new Outbox(writer);
  outbox.pushText("one\n");
  outbox.flush();
  outbox.pushText("two\n");
  outbox.pushText("three\n");
  outbox.flush(); // a write is under way: this one waits for it
  equal(writer.views.length, 1);
  equal(outbox.pendingBytes, 14);
  const drained = outbox.drained();
  writer.complete();
  await drained;
  deepEqual(writer.views.map((v) => decoder.decode(v)), ["one\n", "two\nthree\n"]);
  equal(outbox.pendingBytes, 0);
  equal(outbox.bytesWritten, 14);
});

Deno.test("Outbox.release() hands its buffers on, never one that a write still holds", async (t) => {
  await t.step("a released outbox refuses more", async () => {
    const writer = copyingWriter();
    const outbox = new Outbox(writer);
    outbox.pushText("kept\n");
    await outbox.drained();
    outbox.release();
    equal(outbox.pushText("late\n"), false);
    equal(outbox.push(new Uint8Array([1])), false);
    equal(writer.text(), "kept\n");
  });

  await t.step("a write under way keeps its bytes whatever other outboxes do", async () => {
    const held = heldWriter();
    const first = new Outbox(held);
    first.pushText("first connection's reply\n");
    first.flush();
    // Released while its write is still under way (a connection cut mid-write).
    first.release();
    // Many outboxes come and go meanwhile, each through the pool.
    for (let i = 0; i < 20; i++) {
      const other = new Outbox(copyingWriter());
      other.pushText(`${"x".repeat(30)} ${i}\n`);
      await other.drained();
      other.release();
    }
    equal(decoder.decode(held.views[0]), "first connection's reply\n");
    held.complete();
  });

  await t.step("an outbox with a pooled buffer sends only its own bytes", async () => {
    const long = new Outbox(copyingWriter());
    long.pushText("a much longer reply that fills more of the buffer\n");
    await long.drained();
    long.release();
    const writer = copyingWriter();
    const short = new Outbox(writer);
    short.pushText("hi\n");
    await short.drained();
    equal(writer.text(), "hi\n");
    short.release();
  });
});
