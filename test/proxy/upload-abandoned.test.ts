/**
 * A client that leaves mid-upload while the upstream has stopped reading the body: the proxy's
 * body pump is then waiting on an upstream write, and must not hold the upstream connection, the
 * request's in-flight count and the active gauge until write_timeout (60 s here). Both fronts: the
 * raw HTTP/1.1 front (the body stream errors) and Bun.serve (req.signal aborts; its body stream
 * errors only on the next read).
 */
import { describe, expect, test } from "bun:test";
import { connect, type Socket } from "node:net";
import { eventually } from "../harness.ts";
import { proxyMetrics } from "../../src/proxy/metrics.ts";
import { indent, origin, startProxy } from "./helpers.ts";

/** Reads a request head, then nothing more: the proxy's writes of the body stall once the buffers fill. */
function stallingUpstream() {
  let opened = 0;
  let closed = 0;
  const l = Bun.listen({
    hostname: "127.0.0.1",
    port: 0,
    socket: {
      open: () => void opened++,
      data(s) {
        s.pause();
      },
      close: () => void closed++,
      error: () => {},
    },
  });
  return { port: l.port, opened: () => opened, closed: () => closed, stop: () => l.stop(true) };
}

const echo = origin(() => new Response("next ok"));

/** Send a large body (Content-Length, or chunked) until the socket takes no more (bounded), then reset the connection. */
async function uploadThenVanish(port: number, chunked: boolean): Promise<void> {
  const s: Socket = connect({ host: "127.0.0.1", port });
  s.on("error", () => {});
  await new Promise<void>((r, j) => {
    s.once("connect", r);
    s.once("error", j);
  });
  s.write(`POST /up HTTP/1.1\r\nHost: a\r\n${chunked ? "Transfer-Encoding: chunked" : `Content-Length: ${64 << 20}`}\r\n\r\n`);
  const data = Buffer.alloc(64 * 1024, 120);
  const chunk = chunked ? Buffer.concat([Buffer.from("10000\r\n"), data, Buffer.from("\r\n")]) : data;
  // blocked: write() said wait and no drain came for 300 ms (bounded: at most 64 MiB or 10 s)
  const t0 = Date.now();
  for (let i = 0; i < 1024 && Date.now() - t0 < 10_000; i++) {
    if (s.write(chunk)) continue;
    const drained = await Promise.race([new Promise((r) => s.once("drain", () => r(true))), Bun.sleep(300).then(() => false)]);
    if (!drained) break;
  }
  // RST: a close (FIN) would queue behind the unsent bytes, invisible to the proxy while it is not reading
  s.resetAndDestroy();
}

for (const raw of [true, false]) {
  describe(`client leaves mid-upload while the upstream stopped reading (raw: ${raw})`, () => {
    test.each([false, true])("chunked: %p — the upstream connection is closed at once, nothing stays in flight, the next request is served", async (chunked) => {
      const up = stallingUpstream();
      const p = await startProxy(
        indent(`listen: [{ addr: "127.0.0.1:0", raw: ${raw} }]
upstreams:
  stall: { servers: ["127.0.0.1:${up.port}"], write_timeout: 60s, read_timeout: 60s, max_retries: 0 }
  echo: { servers: ["${echo.addr}"] }
routes:
  - match: { path: /up }
    upstream: stall
  - upstream: echo
`),
      );
      const gauge = proxyMetrics.active.get();
      const status = () => p.services[0]!.status!() as unknown as { active: number; pooled: number };
      await uploadThenVanish(p.port, chunked);
      expect(up.opened()).toBe(1);
      // write_timeout is 60 s: only the client leaving can close it this soon
      await eventually(() => up.closed() === 1, 3000);
      await eventually(() => status().active === 0, 3000);
      expect(status().pooled).toBe(0);
      expect(proxyMetrics.active.get()).toBe(gauge);
      const res = await fetch(`${p.base}/next`);
      expect(await res.text()).toBe("next ok");
      await p.stop();
      up.stop();
    }, 15_000);
  });
}
