/**
 * The client's request body on its way upstream (upstream/body-source.ts): kept for replay within
 * the retry buffer, and past it relayed from the raw front's socket reads straight to the upstream.
 * The rule first, with a fake relay; then real uploads through the proxy: a slow upstream, a body
 * whose last bytes share a read with the next request, a client and an upstream that leave mid-body.
 */
import { afterAll, describe, expect, spyOn, test } from "bun:test";
import { createHash, randomBytes, type Hash } from "node:crypto";
import { connect } from "node:net";
import { BodySource, relayableBody, type ClientBodyRelay } from "../../../src/proxy/upstream/body-source.ts";
import { NestedLoop } from "../../../src/core/native/nested-loop.ts";
import { RawConn } from "../../../src/proxy/listen/raw-conn.ts";
import { H1Conn } from "../../../src/proxy/upstream/connection.ts";
import { eventually, tempDir } from "../../harness.ts";
import { indent, startProxy } from "../helpers.ts";

describe("relayRest", () => {
  function source(limit: number, relayable = true) {
    let ctrl!: ReadableStreamDefaultController<Uint8Array>;
    const stream = new ReadableStream<Uint8Array>({ start: (c) => void (ctrl = c) }, { highWaterMark: 0 });
    let queued = 0;
    const relay: ClientBodyRelay = { queued: () => queued, relay: () => true, resume() {}, cancel() {} };
    const body = new BodySource(relayable ? relayableBody(stream, relay) : stream, limit);
    return { body, ctrl, relay, setQueued: (n: number) => (queued = n) };
  }

  test("only once the body cannot be replayed, with nothing unread in the stream and no read in flight", async () => {
    const s = source(10);
    const it = s.body.iterate();
    s.ctrl.enqueue(new Uint8Array(8));
    expect((await it.next()).value!.byteLength).toBe(8);
    expect(s.body.relayRest()).toBeUndefined(); // replayable: a retry may need every byte
    const pending = it.next();
    expect(s.body.relayRest()).toBeUndefined(); // a read is waiting: it would take what the relay sends
    s.ctrl.enqueue(new Uint8Array(8));
    expect((await pending).value!.byteLength).toBe(8); // past the buffer: handed through, not kept
    expect(s.body.replayable).toBe(false);
    s.setQueued(100);
    expect(s.body.relayRest()).toBeUndefined(); // the stream still holds bytes: they go first
    s.setQueued(0);
    expect(s.body.relayRest()).toBe(s.relay);
  });

  test("never for a stream the front did not mark (a chunked body, Bun.serve's, a hook's)", async () => {
    const s = source(4, false);
    const it = s.body.iterate();
    s.ctrl.enqueue(new Uint8Array(8));
    await it.next();
    expect(s.body.replayable).toBe(false);
    expect(s.body.relayRest()).toBeUndefined();
  });
});

// 6 MiB of random bytes: 96 times the replay buffer
const BODY = randomBytes(6 * 1024 * 1024);
const SUM = createHash("sha256").update(BODY).digest("hex");
const sha = (d: Uint8Array) => createHash("sha256").update(d).digest("hex");

/**
 * An upstream that reads each request's Content-Length body and answers its sha256 (a GET: "ok").
 * /slow: it stops reading for 100 ms after every MiB; /quit: it closes after 300 KiB of the body;
 * /early: it answers "early" after 300 KiB and reads the rest without answering again.
 */
const seen = { opened: 0, closed: 0 };
type In = { buf: Buffer; left: number; got: number; mark: number; path: string; hash?: Hash; answered?: boolean };
function answer(s: { write(d: string): number }, text: string): void {
  s.write(`HTTP/1.1 200 OK\r\ncontent-length: ${text.length}\r\n\r\n${text}`);
}
const upstream = Bun.listen<In>({
  hostname: "127.0.0.1",
  port: 0,
  socket: {
    open(s) {
      s.data = { buf: Buffer.alloc(0), left: -1, got: 0, mark: 0, path: "" };
      seen.opened++;
    },
    data(s, d) {
      const st = s.data;
      let chunk: Buffer = d;
      for (;;) {
        if (st.left < 0) {
          st.buf = Buffer.concat([st.buf, chunk]);
          const end = st.buf.indexOf("\r\n\r\n");
          if (end < 0) return;
          const head = st.buf.subarray(0, end).toString("latin1");
          st.path = head.split(" ")[1]!;
          st.left = Number(/content-length: (\d+)/i.exec(head)?.[1] ?? 0);
          st.got = st.mark = 0;
          st.answered = false;
          st.hash = createHash("sha256");
          chunk = st.buf.subarray(end + 4);
          st.buf = Buffer.alloc(0);
          if (st.left === 0) {
            answer(s, "ok");
            st.left = -1;
            if (chunk.length === 0) return;
            continue;
          }
        }
        const n = Math.min(st.left, chunk.length);
        st.hash!.update(chunk.subarray(0, n));
        st.left -= n;
        st.got += n;
        if (st.path === "/quit" && st.got > 300 * 1024) return void s.terminate();
        if (st.path === "/early" && st.got > 300 * 1024 && !st.answered) {
          st.answered = true;
          answer(s, "early");
        }
        if (st.left === 0) {
          if (!st.answered) answer(s, st.hash!.digest("hex"));
          st.left = -1;
        } else if (st.path === "/slow" && st.got - st.mark > 1024 * 1024) {
          st.mark = st.got;
          s.pause();
          setTimeout(() => s.resume(), 100);
        }
        if (n === chunk.length) return;
        chunk = chunk.subarray(n);
      }
    },
    close: () => void seen.closed++,
  },
});
afterAll(() => upstream.stop(true));

const proxy = await startProxy(
  indent(`listen: ["127.0.0.1:0"]
max_body_size: 16m
upstreams:
  up: { servers: ["127.0.0.1:${upstream.port}"], max_retries: 0 }
routes:
  - upstream: up
`),
);

/** Raw bytes to the proxy; every response's body, by Content-Length, once `count` have come. */
function exchange(bytes: Uint8Array[], count: number): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const sock = connect({ host: "127.0.0.1", port: proxy.port });
    let buf = Buffer.alloc(0);
    const bodies: string[] = [];
    sock.on("data", (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      for (;;) {
        const end = buf.indexOf("\r\n\r\n");
        if (end < 0) return;
        const len = Number(/content-length: (\d+)/i.exec(buf.subarray(0, end).toString("latin1"))![1]);
        if (buf.length < end + 4 + len) return;
        bodies.push(buf.subarray(end + 4, end + 4 + len).toString("latin1"));
        buf = buf.subarray(end + 4 + len);
        if (bodies.length === count) {
          sock.destroy();
          return resolve(bodies);
        }
      }
    });
    sock.on("error", reject);
    for (const b of bytes) sock.write(b);
  });
}

const native = process.env.SECURELY_PROXY__IO !== "eventloop" && !!NestedLoop.get();
const post = (path: string, len = BODY.length) => Buffer.from(`POST ${path} HTTP/1.1\r\nHost: t\r\ncontent-length: ${len}\r\n\r\n`);

describe("uploads past the replay buffer", () => {
  test("curl's 6 MiB upload reaches the upstream byte for byte, written from the client's reads (relayed)", async () => {
    const file = `${tempDir()}/body.bin`;
    await Bun.write(file, BODY);
    const relayed = spyOn(H1Conn.prototype, "writeBorrowed");
    const lent = spyOn(RawConn.prototype, "onLent");
    try {
      // no Expect: 100-continue (curl's default for large bodies), which the raw front passes to Bun.serve
      const p = Bun.spawn(["curl", "-s", "--data-binary", `@${file}`, "-H", "Expect:", "-H", "content-type: application/octet-stream", `${proxy.base}/up`], { stdout: "pipe" });
      expect(await new Response(p.stdout).text()).toBe(SUM);
      expect(relayed.mock.calls.length).toBeGreaterThan(0);
      // on the native loop the client's reads come lent: written from the socket's buffer, not copied
      if (native) expect(lent.mock.calls.length).toBeGreaterThan(0);
    } finally {
      relayed.mockRestore();
      lent.mockRestore();
    }
  });

  test("an upstream that keeps stopping to read gets every byte in order", async () => {
    expect(await exchange([post("/slow"), BODY], 1)).toEqual([SUM]);
  });

  test("a body's last bytes and the next request in one write: both answered, in order", async () => {
    const next = Buffer.from("GET /after HTTP/1.1\r\nHost: t\r\n\r\n");
    const split = BODY.length - 1000;
    expect(await exchange([post("/a"), BODY.subarray(0, split), Buffer.concat([BODY.subarray(split), next])], 2)).toEqual([SUM, "ok"]);
  });

  test("a client that leaves mid-upload: the upstream connection is closed, and the proxy serves on", async () => {
    const closed = seen.closed;
    const sock = connect({ host: "127.0.0.1", port: proxy.port });
    sock.write(post("/gone"));
    sock.write(BODY.subarray(0, 2 * 1024 * 1024));
    await Bun.sleep(100);
    sock.destroy();
    await eventually(() => seen.closed > closed, 3000);
    expect(await exchange([post("/again"), BODY], 1)).toEqual([SUM]);
  });

  // whether the upstream connection is then reused depends on the race between the answer and the body's
  // end: cut mid-body it is closed; sent whole before the answer was read, it is clean (this upstream reads it all)
  test("an upstream that answers before the upload ends: the client gets that answer, and the proxy serves on", async () => {
    const res = await fetch(`${proxy.base}/early`, { method: "POST", body: BODY });
    expect(await res.text()).toBe("early");
    expect(await exchange([post("/again"), BODY], 1)).toEqual([SUM]);
  });

  test("an upstream that closes mid-upload: 502, and the proxy serves on", async () => {
    const res = await fetch(`${proxy.base}/quit`, { method: "POST", body: BODY });
    expect(res.status).toBe(502);
    await res.text();
    const again = await fetch(`${proxy.base}/again`, { method: "POST", body: BODY });
    expect(await again.text()).toBe(SUM);
  });
});
