import { equal } from "node:assert/strict";
import { describeFailure } from "../../src/cli/errors.ts";
import { ConnectTimeoutError, ReplyTimeoutError } from "../../src/net/client.ts";

Deno.test("describeFailure says what could not be done where", () => {
  const unavailable = new Deno.errors.AddrNotAvailable("Cannot assign requested address");
  equal(
    describeFailure(unavailable, { action: "listen", address: "10.1.2.3:9001" }),
    "cannot listen on 10.1.2.3:9001: address not available on this machine",
  );
  equal(
    describeFailure(unavailable, { action: "connect", address: "10.1.2.3:9001" }),
    "cannot connect to 10.1.2.3:9001: no free local port or address to connect from",
  );
});

Deno.test("describeFailure keeps the deadline of socklab's own timeouts", () => {
  equal(
    describeFailure(new ReplyTimeoutError("127.0.0.1:9001", 2999.6), { address: "x" }),
    "127.0.0.1:9001 did not reply within 3000 ms",
  );
  equal(
    describeFailure(new ConnectTimeoutError("127.0.0.1:9001", 500), { address: "x" }),
    "127.0.0.1:9001 did not accept the connection within 500 ms",
  );
  equal(
    describeFailure(new Deno.errors.TimedOut("os error 110"), { address: "127.0.0.1:9001" }),
    "127.0.0.1:9001 timed out",
  );
});
