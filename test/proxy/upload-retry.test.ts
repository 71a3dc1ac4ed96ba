/**
 * Uploads retried after a stale pooled connection: the handler retries on a new connection while
 * the first attempt's pump still waits on the client's next chunk (the body is shared). The old
 * attempt must neither clear the new one's client-left hook nor take a chunk meant for it.
 */
import { expect, test } from "bun:test";
import { connect, type Socket } from "node:net";
import { eventually } from "../harness.ts";
import { indent, startProxy } from "./helpers.ts";

/** conn 1: answers GET /warm keep-alive, then closes on the next request (stale). conn 2+: `mode`. */
function upstream(mode: "stall" | "count") {
  let opened = 0;
  let closed = 0;
  const got: number[] = [];
  const l = Bun.listen<{ n: number; buf: Buffer; cl: number; body: number }>({
    hostname: "127.0.0.1",
    port: 0,
    socket: {
      open(s) {
        s.data = { n: ++opened, buf: Buffer.alloc(0), cl: -1, body: 0 };
      },
      data(s, d) {
        const st = s.data;
        if (st.n === 1) {
          if (Buffer.from(d).toString("latin1").startsWith("GET /warm")) s.write("HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok");
          else s.terminate();
          return;
        }
        if (mode === "stall") return void s.pause();
        if (st.cl < 0) {
          st.buf = Buffer.concat([st.buf, d]);
          const e = st.buf.indexOf("\r\n\r\n");
          if (e < 0) return;
          st.cl = Number(/content-length: (\d+)/i.exec(st.buf.toString("latin1", 0, e))![1]);
          st.body = st.buf.length - e - 4;
        } else st.body += d.length;
        got[st.n] = st.body;
        if (st.body >= st.cl) s.write(`HTTP/1.1 200 OK\r\ncontent-length: ${String(st.body).length}\r\n\r\n${st.body}`);
      },
      close: () => void closed++,
      error: () => {},
    },
  });
  return { port: l.port, opened: () => opened, closed: () => closed, got, stop: () => l.stop(true) };
}

async function open(port: number): Promise<Socket> {
  const s = connect({ host: "127.0.0.1", port });
  s.on("error", () => {});
  await new Promise((r) => s.once("connect", r));
  return s;
}

for (const raw of [true, false]) {
  test(`raw ${raw}: after a stale-connection retry, a client leaving still frees the stalled upstream connection`, async () => {
    const up = upstream("stall");
    const p = await startProxy(indent(`listen: [{ addr: "127.0.0.1:0", raw: ${raw} }]\nupstreams:\n  u: { servers: ["127.0.0.1:${up.port}"], write_timeout: 60s, read_timeout: 60s, max_retries: 2 }\nroutes:\n  - upstream: u\n`));
    expect(await (await fetch(`${p.base}/warm`)).text()).toBe("ok");
    const s = await open(p.port);
    s.write(`POST /up HTTP/1.1\r\nHost: a\r\nContent-Length: ${64 << 20}\r\n\r\n` + "a".repeat(100));
    await eventually(() => up.opened() === 2, 3000); // the retry's connection
    await Bun.sleep(100);
    s.write("b".repeat(100)); // wakes the first attempt's pump too: its finally clears onAbandon
    await Bun.sleep(100);
    const data = Buffer.alloc(64 * 1024, 120);
    for (let i = 0; i < 1024; i++) {
      if (s.write(data)) continue;
      const drained = await Promise.race([new Promise((r) => s.once("drain", () => r(true))), Bun.sleep(300).then(() => false)]);
      if (!drained) break;
    }
    s.resetAndDestroy();
    await eventually(() => up.closed() === 2, 3000);
    await p.stop();
    up.stop();
  }, 15_000);
}

test("raw: the chunk that overflows the retry buffer during a retry is not lost", async () => {
  const up = upstream("count");
  const p = await startProxy(indent(`listen: [{ addr: "127.0.0.1:0", raw: true }]\nupstreams:\n  u: { servers: ["127.0.0.1:${up.port}"], read_timeout: 3s, retry_buffer_size: 1000, max_retries: 2 }\nroutes:\n  - upstream: u\n`));
  expect(await (await fetch(`${p.base}/warm`)).text()).toBe("ok");
  const s = await open(p.port);
  let resp = "";
  s.on("data", (d) => (resp += d));
  s.write(`POST /up HTTP/1.1\r\nHost: a\r\nContent-Length: 2200\r\n\r\n` + "a".repeat(100));
  await eventually(() => up.opened() === 2, 3000);
  await Bun.sleep(100);
  s.write("b".repeat(2000)); // crosses retry_buffer_size: becomes lastUnstored
  await Bun.sleep(100);
  s.write("c".repeat(100));
  await eventually(() => resp.includes("\r\n\r\n"), 6000);
  expect(resp.split("\r\n")[0]).toBe("HTTP/1.1 200 OK");
  expect(up.got[2]).toBe(2200);
  s.destroy();
  await p.stop();
  up.stop();
}, 15_000);
