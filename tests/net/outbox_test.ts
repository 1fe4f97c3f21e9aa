import { deepEqual, equal } from "node:assert/strict";
import fc from "fast-check";
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

Deno.test("Outbox.pushText() writes any text as UTF-8, short or long, ASCII or not", async () => {
  const texts = ["12\n", "héllo\n", "日本\n", "😀\n", "a".repeat(127) + "é", "b".repeat(300), ""];
  for (const text of texts) {
    const writer = copyingWriter();
    const outbox = new Outbox(writer);
    outbox.pushText("x");
    outbox.pushText(text);
    await outbox.drained();
    equal(writer.text(), `x${text}`);
    outbox.release();
  }
});

Deno.test("Outbox.pushText() sends what TextEncoder would, for any text (property)", async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.array(fc.string({ unit: "binary", maxLength: 200 }), { maxLength: 6 }),
      async (texts) => {
        const bytes: Uint8Array[] = [];
        const outbox = new Outbox({
          write(chunk) {
            bytes.push(chunk.slice());
            return Promise.resolve(chunk.length);
          },
        });
        for (const text of texts) outbox.pushText(text);
        await outbox.drained();
        outbox.release();
        const sent = new Uint8Array(bytes.reduce((n, b) => n + b.length, 0));
        let at = 0;
        for (const b of bytes) {
          sent.set(b, at);
          at += b.length;
        }
        deepEqual(sent, new TextEncoder().encode(texts.join("")));
      },
    ),
  );
});
