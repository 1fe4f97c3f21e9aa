/**
 * The yardsticks for `deno task bench`: each service in its fastest plain
 * form, written directly on `Deno.listen` — a `conn.read()` loop into a
 * reused buffer, one `conn.write()` per read — with none of socklab's
 * framing, limits, timeouts or shutdown. They serve what the benchmark sends
 * and are not meant for anything else:
 *
 * - `double` answers LF-terminated integers that fit a float64 exactly;
 * - `random` writes ten integers in 1..100 joined by `,` and closes;
 * - `chat` relays each complete line, unchanged, to every other client (one
 *   write per read and client, queued in order per client; a client whose
 *   queue passes 256 KiB is dropped, as socklab's default `--max-pending-bytes`
 *   does).
 *
 * Usage: deno run --allow-net=127.0.0.1 scripts/reference_server.ts SERVICE [PORT]
 * Prints `reference SERVICE listening on 127.0.0.1:PORT` when ready.
 *
 * @module
 */

const LF = 10;
const MINUS = 45;
const ZERO = 48;
const CR = 13;

/** Room kept free in the output buffer: the longest reply and its newline. */
const LONGEST_REPLY = 24;

async function writeAll(conn: Deno.TcpConn, bytes: Uint8Array): Promise<void> {
  let written = 0;
  while (written < bytes.length) written += await conn.write(bytes.subarray(written));
}

/** double: reads, answers each complete line, writes once per read. */
async function handleDouble(conn: Deno.TcpConn): Promise<void> {
  const input = new Uint8Array(8 * 1024);
  const output = new Uint8Array(8 * 1024);
  let held = 0;
  try {
    while (true) {
      const n = await conn.read(input.subarray(held));
      if (n === null) break;
      const length = held + n;
      let out = 0;
      let start = 0;
      for (let i = held; i < length; i++) {
        if (input[i] !== LF) continue;
        let negative = false;
        let value = 0;
        let valid = false;
        for (let j = start; j < i; j++) {
          const b = input[j];
          if (b === MINUS && j === start) negative = true;
          else if (b >= ZERO && b <= ZERO + 9) {
            value = value * 10 + (b - ZERO);
            valid = true;
          } else if (b !== CR) {
            valid = false;
            break;
          }
        }
        const text = valid ? String((negative ? -value : value) * 2) : "error";
        if (out + LONGEST_REPLY > output.length) {
          await writeAll(conn, output.subarray(0, out));
          out = 0;
        }
        for (let k = 0; k < text.length && k < LONGEST_REPLY - 1; k++) {
          output[out++] = text.charCodeAt(k);
        }
        output[out++] = LF;
        start = i + 1;
      }
      if (start < length) input.copyWithin(0, start, length);
      held = length - start;
      if (held === input.length) break; // a line longer than the buffer: not our traffic
      if (out > 0) await writeAll(conn, output.subarray(0, out));
    }
  } catch { /* reset by the peer */ }
  try {
    conn.close();
  } catch { /* already closed */ }
}

/** random: ten integers in 1..100 joined by ",", one write, then close. */
async function handleRandom(conn: Deno.TcpConn): Promise<void> {
  let text = String(1 + Math.floor(Math.random() * 100));
  for (let i = 1; i < 10; i++) text += "," + (1 + Math.floor(Math.random() * 100));
  try {
    await writeAll(conn, encoder.encode(text));
  } catch { /* reset by the peer */ }
  try {
    conn.close();
  } catch { /* already closed */ }
}

const encoder = new TextEncoder();

/** A chat client: its connection and the output queued for it, written in order. */
interface ChatClient {
  conn: Deno.TcpConn;
  queue: Uint8Array[];
  queued: number;
  writing: boolean;
  gone: boolean;
}

/** Output one chat client may have waiting before it is dropped (socklab's default). */
const MAX_QUEUED = 256 * 1024;
const chatClients = new Set<ChatClient>();

function dropClient(client: ChatClient): void {
  if (client.gone) return;
  client.gone = true;
  chatClients.delete(client);
  client.queue = [];
  try {
    client.conn.close();
  } catch { /* already closed */ }
}

/** Writes a client's queue, all of it in one write each time round. */
async function pump(client: ChatClient): Promise<void> {
  client.writing = true;
  try {
    while (client.queue.length > 0 && !client.gone) {
      let chunk = client.queue[0];
      if (client.queue.length > 1) {
        chunk = new Uint8Array(client.queued);
        let at = 0;
        for (const part of client.queue) {
          chunk.set(part, at);
          at += part.length;
        }
      }
      client.queue = [];
      await writeAll(client.conn, chunk);
      client.queued -= chunk.length;
    }
  } catch {
    dropClient(client);
  }
  client.writing = false;
}

function relay(client: ChatClient, bytes: Uint8Array): void {
  if (client.gone) return;
  client.queue.push(bytes);
  client.queued += bytes.length;
  if (client.queued > MAX_QUEUED) dropClient(client);
  else if (!client.writing) pump(client);
}

/** chat: every complete line read goes, unchanged, to every other client. */
async function handleChat(conn: Deno.TcpConn): Promise<void> {
  const me: ChatClient = { conn, queue: [], queued: 0, writing: false, gone: false };
  chatClients.add(me);
  const input = new Uint8Array(16 * 1024);
  let held = 0;
  try {
    while (!me.gone) {
      const n = await conn.read(input.subarray(held));
      if (n === null) break;
      const length = held + n;
      const last = input.lastIndexOf(LF, length - 1);
      if (last === -1) held = length;
      else {
        // One copy of the complete lines, shared by every client it goes to.
        const lines = input.slice(0, last + 1);
        for (const other of chatClients) if (other !== me) relay(other, lines);
        input.copyWithin(0, last + 1, length);
        held = length - last - 1;
      }
      if (held === input.length) break; // a line longer than the buffer: not our traffic
    }
  } catch { /* reset by the peer */ }
  dropClient(me);
}

/** The reference server of each service, by name. */
const HANDLERS: Record<string, (conn: Deno.TcpConn) => Promise<void>> = {
  double: handleDouble,
  random: handleRandom,
  chat: handleChat,
};

if (import.meta.main) {
  const [service = "double", port = "0"] = Deno.args;
  const handle = HANDLERS[service];
  if (!handle) {
    console.error(
      `reference_server: no reference for "${service}"; choose from ${
        Object.keys(HANDLERS).join(", ")
      }`,
    );
    Deno.exit(2);
  }
  const listener = Deno.listen({ hostname: "127.0.0.1", port: Number(port) });
  console.log(`reference ${service} listening on 127.0.0.1:${listener.addr.port}`);
  for await (const conn of listener) {
    conn.setNoDelay(true);
    handle(conn);
  }
}
