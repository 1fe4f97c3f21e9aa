/**
 * The yardstick for `deno task bench`: a double server in its fastest plain
 * form, written directly on `Deno.listen` — a `conn.read()` loop into a
 * reused buffer, one `conn.write()` per read — with none of socklab's
 * framing, limits, timeouts or shutdown. It answers LF-terminated integers
 * that fit a float64 exactly, which is all the benchmark sends, and is not
 * meant for anything else.
 *
 * Usage: deno run --allow-net=127.0.0.1 scripts/reference_server.ts SERVICE [PORT]
 * Prints `reference SERVICE listening on 127.0.0.1:PORT` when ready. Only
 * `double` exists so far: the random and chat yardsticks (a write-and-close
 * loop; a relay writing each line to every other client) are added here
 * with their services, with a handler each in {@linkcode HANDLERS}.
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

/** The reference server of each service, by name. */
const HANDLERS: Record<string, (conn: Deno.TcpConn) => Promise<void>> = {
  double: handleDouble,
};

if (import.meta.main) {
  const [service = "double", port = "0"] = Deno.args;
  const handle = HANDLERS[service];
  if (!handle) {
    console.error(`reference_server: no reference for "${service}" yet; choose from double`);
    Deno.exit(2);
  }
  const listener = Deno.listen({ hostname: "127.0.0.1", port: Number(port) });
  console.log(`reference ${service} listening on 127.0.0.1:${listener.addr.port}`);
  for await (const conn of listener) {
    conn.setNoDelay(true);
    handle(conn);
  }
}
