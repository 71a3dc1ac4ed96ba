/**
 * Not a proxy: bytes from each client connection go to its own upstream connection and back, no
 * HTTP at all. Its CPU per request is the least any proxy on Bun's sockets can cost (two reads and
 * two writes per request), so the benchmark shows how much of securely's cost is Bun's and how much
 * is securely's own.
 */
import type { Socket } from "bun";

const [host, port] = process.argv[2]!.split(":");
const listenPort = Number(process.argv[3]);

interface Pair {
  upstream?: Socket<unknown>;
  /** Client bytes that came before the upstream connection opened. */
  early: Uint8Array[];
}

Bun.listen<Pair>({
  hostname: "127.0.0.1",
  port: listenPort,
  socket: {
    open(client) {
      client.setNoDelay(true);
      client.data = { early: [] };
      Bun.connect({
        hostname: host!,
        port: Number(port),
        socket: {
          open(up) {
            up.setNoDelay(true);
            client.data.upstream = up;
            for (const b of client.data.early) up.write(b);
            client.data.early = [];
          },
          data: (_up, d) => void client.write(d),
          close: () => client.end(),
          error: () => client.end(),
        },
      }).catch(() => client.end());
    },
    data(client, d) {
      if (client.data.upstream) client.data.upstream.write(d);
      else client.data.early.push(Buffer.from(d));
    },
    close: (client) => client.data.upstream?.end(),
  },
});
console.log(`byte floor listening on ${listenPort}`);
