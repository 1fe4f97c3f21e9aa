import { deepEqual, equal } from "node:assert/strict";
import { runClientCheck } from "../../src/check/client_runner.ts";
import { DOUBLE_CLIENT } from "../../src/check/cases/double_client.ts";
import { SUM_CLIENT } from "../../src/check/cases/sum_client.ts";
import { RANDOM_CLIENT } from "../../src/check/cases/random_client.ts";
import { CHAT_CLIENT } from "../../src/check/cases/chat_client.ts";
import { formatText } from "../../src/check/report.ts";

const MAIN = new URL("../../main.ts", import.meta.url).pathname;
const CLASSROOM = new URL("../fixtures/classroom/double_client.py", import.meta.url).pathname;

/** socklab's own client of `service`, pointed at the reference server. */
function socklabClient(service: string, ...flags: string[]): string[] {
  return [
    Deno.execPath(),
    "run",
    "--quiet",
    "--allow-net=127.0.0.1",
    MAIN,
    "client",
    service,
    ...flags,
    "--server",
    "127.0.0.1:{port}",
  ];
}

function failed(report: { results: { id: string; status: string }[] }): string[] {
  return report.results.filter((r) => r.status === "failed").map((r) => r.id);
}

Deno.test("check client double passes the classroom client, strict byte checks included", async () => {
  const report = await runClientCheck("double", DOUBLE_CLIENT, ["python3", CLASSROOM, "{port}"], {
    strict: true,
  });
  deepEqual(failed(report), [], formatText(report));
  equal(report.counts.passed, 6);
});

Deno.test("check client double passes socklab's own client (and --bare passes strict)", async () => {
  const plain = await runClientCheck("double", DOUBLE_CLIENT, socklabClient("double"));
  deepEqual(failed(plain), [], formatText(plain));
  const bare = await runClientCheck(
    "double",
    DOUBLE_CLIENT,
    socklabClient("double", "--bare"),
    { strict: true },
  );
  deepEqual(failed(bare), [], formatText(bare));
});

Deno.test("check client double catches a client that prints the wrong result and never closes", async () => {
  // Sends each number, prints a made-up result, never closes, and exits 3.
  const script = `
import socket, sys
socks = []
for line in sys.stdin:
    line = line.strip()
    if line == "exit":
        break
    s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
    socks.append(s)
    s.send(line.encode())
    s.recv(1024)
    print("result: 7", flush=True)
import os
os._exit(3)
`;
  const report = await runClientCheck("double", DOUBLE_CLIENT, ["python3", "-c", script, "{port}"]);
  deepEqual(
    failed(report),
    ["client-double/output/result", "client-double/exit/on-exit"],
    formatText(report),
  );
});

Deno.test("check client double catches a client that sends a float", async () => {
  const script = `
import socket, sys
for line in sys.stdin:
    line = line.strip()
    if line == "exit":
        break
    s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
    s.send((line + ".0").encode())
    print("Received from server:", s.recv(1024).decode(), flush=True)
    s.close()
`;
  const report = await runClientCheck("double", DOUBLE_CLIENT, ["python3", "-c", script, "{port}"]);
  deepEqual(
    failed(report),
    ["client-double/request/integer", "client-double/output/result"],
    formatText(report),
  );
});

const fixture = (name: string) =>
  new URL(`../fixtures/classroom/${name}`, import.meta.url).pathname;

Deno.test("check client sum passes both classroom clients strictly, and socklab's client", async () => {
  for (const script of ["sum_text_client.py", "sum_json_client.py"]) {
    const report = await runClientCheck("sum", SUM_CLIENT, ["python3", fixture(script), "{port}"], {
      strict: true,
    });
    deepEqual(failed(report), [], formatText(report));
  }
  const ours = await runClientCheck("sum", SUM_CLIENT, socklabClient("sum"));
  deepEqual(failed(ours), [], formatText(ours));
});

Deno.test("check client sum catches a client that adds instead of reading, and crashes on 101", async () => {
  const script = `
import socket, sys
n = int(sys.stdin.readline())
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.send(f"Client;{n}".encode())
reply = s.recv(1024).decode()
name, number = reply.split(";")
print("sum:", n + n)
s.close()
`;
  const report = await runClientCheck("sum", SUM_CLIENT, ["python3", "-c", script, "{port}"]);
  deepEqual(
    failed(report),
    ["client-sum/output/sum", "client-sum/range/out-of-range"],
    formatText(report),
  );
});

Deno.test("check client random passes the classroom client and socklab's client", async () => {
  const classroomReport = await runClientCheck("random", RANDOM_CLIENT, [
    "python3",
    fixture("random_client.py"),
    "{port}",
  ]);
  deepEqual(failed(classroomReport), [], formatText(classroomReport));
  const ours = await runClientCheck("random", RANDOM_CLIENT, socklabClient("random"));
  deepEqual(failed(ours), [], formatText(ours));
});

Deno.test("check client random catches a client that prints nothing", async () => {
  const script = `
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.send(b"numbers please")
s.recv(1024)
s.close()
`;
  const report = await runClientCheck("random", RANDOM_CLIENT, ["python3", "-c", script, "{port}"]);
  deepEqual(
    failed(report),
    ["client-random/output/numbers"],
    formatText(report),
  );
});

Deno.test("check client chat passes the classroom client strictly, and socklab's client", async () => {
  const classroomReport = await runClientCheck("chat", CHAT_CLIENT, [
    "python3",
    fixture("chat_client.py"),
    "{port}",
  ], { strict: true });
  deepEqual(failed(classroomReport), [], formatText(classroomReport));
  const ours = await runClientCheck("chat", CHAT_CLIENT, socklabClient("chat"));
  deepEqual(failed(ours), [], formatText(ours));
});

Deno.test("check client chat catches a client that never shows what it receives", async () => {
  const script = `
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
for line in sys.stdin:
    s.send(line.strip().encode())
s.close()
`;
  const report = await runClientCheck("chat", CHAT_CLIENT, ["python3", "-c", script, "{port}"]);
  deepEqual(failed(report), ["client-chat/receive/shown"], formatText(report));
});
