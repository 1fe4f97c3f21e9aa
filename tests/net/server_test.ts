import { equal } from "node:assert/strict";
import { type Peer, serve } from "../../src/net/server.ts";
import { closeQuietly, connectLocal, deadline, readOnce, send } from "../_helpers.ts";

Deno.test("serve() writes what one session queues for another peer without waiting on that peer", async () => {
  const peers = new Set<Peer>();
  const bothOpen = Promise.withResolvers<void>();
  await using server = serve({
    name: "relay",
    open(peer) {
      peers.add(peer);
      if (peers.size === 2) bothOpen.resolve();
      return {
        message(message) {
          for (const other of peers) if (other !== peer) other.send(message);
        },
        closed: () => peers.delete(peer),
      };
    },
  }, { port: 0 });
  const a = await connectLocal(server.addr.port);
  const b = await connectLocal(server.addr.port);
  try {
    await deadline(bothOpen.promise, 5_000, "both connections open");
    await send(a, "hi\n");
    // b has sent nothing: its queued output must still go out at once.
    equal(await readOnce(b), "hi");
  } finally {
    closeQuietly(a);
    closeQuietly(b);
  }
});
