import { deepEqual, equal, ok } from "node:assert/strict";
import fc from "fast-check";
import { CLEAR_LINE, LineEditor } from "../../src/client/line_editor.ts";

const keys = (s: string) => new TextEncoder().encode(s);

/** True if `text` holds a C0 or C1 control character or DEL. */
function hasControl(text: string): boolean {
  return Array.from(text).some((char) => {
    const code = char.codePointAt(0)!;
    return code < 0x20 || (code >= 0x7f && code <= 0x9f);
  });
}

Deno.test("LineEditor submits a line on Enter (CR, LF or CRLF once)", () => {
  const editor = new LineEditor();
  deepEqual(editor.feed(keys("one\rtwo\r\nthree\n")), [
    { kind: "line", text: "one" },
    { kind: "line", text: "two" },
    { kind: "line", text: "three" },
  ]);
  deepEqual(editor.feed(keys("\r")), [{ kind: "line", text: "" }]);
});

Deno.test("LineEditor edits with Backspace, Ctrl+U and Ctrl+W", () => {
  const editor = new LineEditor();
  editor.feed(keys("héllo\x7f\x7f"));
  equal(editor.text, "hél");
  editor.feed(keys("lo big world\x17"));
  equal(editor.text, "héllo big ");
  editor.feed(keys("\x17"));
  equal(editor.text, "héllo ");
  editor.feed(keys("\x15"));
  equal(editor.text, "");
});

Deno.test("LineEditor ignores escape sequences and control keys", () => {
  const editor = new LineEditor();
  editor.feed(keys("a\x1b[A\x1b[1;5Cb\x1bOPc\x1bxd\x01\x02\x0c\x1b[200~e\x1b[201~"));
  equal(editor.text, "abcde");
});

Deno.test("LineEditor joins a UTF-8 character split across reads", () => {
  const editor = new LineEditor();
  const bytes = keys("é");
  editor.feed(bytes.subarray(0, 1));
  editor.feed(bytes.subarray(1));
  equal(editor.text, "é");
});

Deno.test("LineEditor reports Ctrl+D on an empty line and Ctrl+C", () => {
  const editor = new LineEditor();
  deepEqual(editor.feed(keys("x\x04")), []);
  deepEqual(editor.feed(keys("\x15\x04")), [{ kind: "end" }]);
  deepEqual(editor.feed(keys("\x03")), [{ kind: "interrupt" }]);
});

Deno.test("LineEditor.render() redraws the prompt and the input, never wider than the terminal", () => {
  const editor = new LineEditor({ prompt: "> " });
  editor.feed(keys("hello"));
  equal(editor.render(80), `${CLEAR_LINE}> hello`);
  editor.feed(keys(" and a much longer line than fits"));
  const shown = editor.render(20).slice(CLEAR_LINE.length);
  ok(Array.from(shown).length < 20, shown);
  ok(shown.endsWith("than fits"));
  ok(shown.startsWith("> …"));
});

Deno.test("LineEditor never throws and never keeps a control character (property)", () => {
  fc.assert(
    fc.property(fc.array(fc.uint8Array({ maxLength: 40 }), { maxLength: 10 }), (chunks) => {
      const editor = new LineEditor({ maxChars: 50 });
      for (const chunk of chunks) {
        for (const event of editor.feed(chunk)) {
          if (event.kind === "line") ok(!hasControl(event.text));
        }
      }
      ok(!hasControl(editor.text));
      ok(Array.from(editor.text).length <= 50);
    }),
    { numRuns: 1000 },
  );
});
