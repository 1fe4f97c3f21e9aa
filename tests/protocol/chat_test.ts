import { deepEqual, equal, ok } from "node:assert/strict";
import fc from "fast-check";
import {
  alreadyConnectedAnnouncement,
  checkNickChange,
  classifyChatLine,
  escapeChatText,
  formatAction,
  formatMessage,
  formatServerLine,
  isValidNickname,
  joinAnnouncement,
  leaveAnnouncement,
  nicknameKey,
  parseChatLine,
  renameAnnouncement,
  whoReply,
} from "../../src/protocol/chat.ts";

const bytes = (s: string) => new TextEncoder().encode(s);
const escape = (s: string) => escapeChatText(bytes(s));

Deno.test("isValidNickname() takes 1-32 letters, digits, _ . -", () => {
  for (const name of ["a", "alice", "Bob_2", "x.y-z", "9", "a".repeat(32), "..."]) {
    ok(isValidNickname(name), name);
  }
  for (const name of ["", "a".repeat(33), "a b", "a\tb", "é", "<x>", "a/b", "a\n", "*"]) {
    ok(!isValidNickname(name), JSON.stringify(name));
  }
});

Deno.test("checkNickChange() accepts a free name and refuses taken, reserved and server names", () => {
  const taken = new Set(["alice", "user2"]);
  const isTaken = (key: string) => taken.has(key);
  deepEqual(checkNickChange("bob", "user1", isTaken), { ok: true, name: "bob" });
  const refused = (name: string, current = "user1") => {
    const change = checkNickChange(name, current, isTaken);
    equal(change.ok, false, name);
    return change.ok ? "" : change.error;
  };
  equal(refused("Alice"), "Cannot use the name <Alice>: it is taken.");
  equal(refused("announce"), "Cannot use the name <announce>: it is reserved.");
  equal(refused("SERVER"), "Cannot use the name <SERVER>: it is reserved.");
  equal(refused("user7"), "Cannot use the name <user7>: names user<N> are given by the server.");
  equal(refused("a b"), `Cannot use the name "a b": use 1-32 letters, digits, '_', '.' or '-'.`);
  equal(refused("alice", "alice"), "You are already <alice>.");
  // Changing the case of one's own name is allowed.
  deepEqual(checkNickChange("ALICE", "alice", isTaken), { ok: true, name: "ALICE" });
  // A very long bad name is shortened in the error.
  ok(refused("x".repeat(5000)).length < 120);
});

Deno.test("nicknameKey() makes names differing in case the same", () => {
  equal(nicknameKey("Alice"), nicknameKey("aLICE"));
});

Deno.test("parseChatLine() reads the commands, case-insensitively", () => {
  deepEqual(parseChatLine("/nick alice"), { kind: "nick", name: "alice" });
  deepEqual(parseChatLine("/NICK  alice  "), { kind: "nick", name: "alice" });
  deepEqual(parseChatLine("/who"), { kind: "who" });
  deepEqual(parseChatLine("/who cares"), { kind: "who" });
  deepEqual(parseChatLine("/me waves at\tyou"), { kind: "me", action: "waves at\tyou" });
  deepEqual(parseChatLine("/quit"), { kind: "quit" });
  deepEqual(parseChatLine("/Help"), { kind: "help" });
  deepEqual(parseChatLine("/frob x"), { kind: "unknown", command: "/frob" });
  deepEqual(parseChatLine("/"), { kind: "unknown", command: "/" });
  equal(parseChatLine("/nick").kind, "usage");
  equal(parseChatLine("/me   ").kind, "usage");
});

Deno.test("parseChatLine() takes anything else as a message; // escapes a slash; blank is empty", () => {
  deepEqual(parseChatLine("hello /nick"), { kind: "say", text: "hello /nick" });
  deepEqual(parseChatLine(" /nick x"), { kind: "say", text: " /nick x" });
  deepEqual(parseChatLine("//nick x"), { kind: "say", text: "/nick x" });
  deepEqual(parseChatLine(""), { kind: "empty" });
  deepEqual(parseChatLine(" \t "), { kind: "empty" });
});

Deno.test("the server's lines follow ncat's forms, with the count connected", () => {
  equal(formatMessage("alice", "hi"), "<alice> hi");
  equal(formatAction("alice", "waves"), "* alice waves");
  equal(formatServerLine("hi"), "Server: hi");
  equal(
    joinAnnouncement("127.0.0.1", "user5", 3),
    "<announce> 127.0.0.1 is connected as <user5> (3 connected).",
  );
  equal(leaveAnnouncement("user5", 2), "<announce> <user5> is disconnected (2 connected).");
  equal(
    renameAnnouncement("user5", "bob", 2),
    "<announce> <user5> is now known as <bob> (2 connected).",
  );
  equal(
    alreadyConnectedAnnouncement([{ host: "127.0.0.1", name: "a" }, { host: "::1", name: "b" }]),
    "<announce> already connected: 127.0.0.1 as <a>, ::1 as <b>.",
  );
  equal(whoReply(["a", "b"], "a"), "<announce> 2 connected: <a> (you), <b>.");
});

Deno.test("classifyChatLine() tells messages, announcements, server lines and errors apart", () => {
  deepEqual(classifyChatLine("<alice> hi <there>"), {
    kind: "message",
    from: "alice",
    text: "hi <there>",
  });
  deepEqual(classifyChatLine("* alice waves"), {
    kind: "message",
    from: "alice",
    text: "waves",
    action: true,
  });
  deepEqual(classifyChatLine("<announce> <bob> is disconnected (1 connected)."), {
    kind: "announcement",
    from: null,
    text: "<bob> is disconnected (1 connected).",
  });
  deepEqual(classifyChatLine("<error> Unknown command"), {
    kind: "error",
    from: null,
    text: "Unknown command",
  });
  deepEqual(classifyChatLine("Server: hello"), { kind: "server", from: null, text: "hello" });
  // The write-up's server relays raw text with no name.
  deepEqual(classifyChatLine("just text"), { kind: "message", from: null, text: "just text" });
  deepEqual(classifyChatLine("<not a name> x"), {
    kind: "message",
    from: null,
    text: "<not a name> x",
  });
});

Deno.test("classifyChatLine() reads back every line the server formats (property)", () => {
  const name = fc.stringMatching(/^[A-Za-z0-9_.-]{1,32}$/);
  const text = fc.string({ maxLength: 40 });
  fc.assert(
    fc.property(name, text, (from, said) => {
      deepEqual(classifyChatLine(formatMessage(from, said)), { kind: "message", from, text: said });
      equal(classifyChatLine(formatServerLine(said)).kind, "server");
      equal(classifyChatLine(leaveAnnouncement(from, 3)).kind, "announcement");
    }),
  );
});

Deno.test("escapeChatText() escapes control bytes as ncat does, in octal", () => {
  equal(escape("plain text"), "plain text");
  equal(escape("tab\tkept"), "tab\tkept");
  equal(escape("a\x01b"), "a\\001b");
  equal(escape("\x1b[2J"), "\\033[2J");
  equal(escape("cr\rlf\n"), "cr\\015lf\\012");
  equal(escape("del\x7f"), "del\\177");
  equal(escape("\0"), "\\000");
});

Deno.test("escapeChatText() keeps UTF-8 text and escapes C1 controls and bytes that are not UTF-8", () => {
  equal(escape("café ünïcødé 日本 🎉"), "café ünïcødé 日本 🎉");
  equal(escape("c1\u0085x\u009b"), "c1\\302\\205x\\302\\233");
  equal(escapeChatText(new Uint8Array([0x61, 0xff, 0x62])), "a\\377b");
  equal(escapeChatText(new Uint8Array([0xc3])), "\\303"); // truncated sequence
  equal(escapeChatText(new Uint8Array([0xc0, 0xaf])), "\\300\\257"); // overlong "/"
  equal(escapeChatText(new Uint8Array([0xed, 0xa0, 0x80])), "\\355\\240\\200"); // surrogate
  equal(escapeChatText(new Uint8Array([0xf4, 0x90, 0x80, 0x80])), "\\364\\220\\200\\200");
});

/** True if `text` holds a C0 control other than tab, DEL, a C1 control or U+FFFD. */
function hasControl(text: string): boolean {
  for (const char of text) {
    const code = char.codePointAt(0)!;
    if ((code < 0x20 && code !== 9) || (code >= 0x7f && code <= 0x9f) || code === 0xfffd) {
      return true;
    }
  }
  return false;
}

Deno.test("escapeChatText() never throws and never lets a control byte through (property)", () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 300 }), (input) => {
      const text = escapeChatText(input);
      ok(!hasControl(text), JSON.stringify(text));
      // The result is well-formed text: it survives a strict UTF-8 round trip.
      equal(new TextDecoder("utf-8", { fatal: true }).decode(bytes(text)), text);
    }),
    { numRuns: 3000 },
  );
});

Deno.test("escapeChatText() leaves text without controls unchanged (property)", () => {
  fc.assert(
    fc.property(fc.string({ unit: "grapheme", maxLength: 100 }), (input) => {
      fc.pre(!hasControl(input));
      equal(escape(input), input);
    }),
    { numRuns: 2000 },
  );
});

Deno.test("parseChatLine() and classifyChatLine() never throw on escaped arbitrary bytes (property)", () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 200 }), (input) => {
      const text = escapeChatText(input);
      const command = parseChatLine(text);
      ok(command.kind.length > 0);
      ok(classifyChatLine(text).kind.length > 0);
      if (command.kind === "nick") checkNickChange(command.name, "user1", () => false);
    }),
    { numRuns: 2000 },
  );
});
