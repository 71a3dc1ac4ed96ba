/**
 * Native TCP sockets on the NestedLoop, against real clients and servers (node:net, Bun.listen)
 * on loopback: Bun's Socket semantics (partial writes and drain, half-close, reset on terminate,
 * pause/resume, idle timeout), connect errors, Unix and IPv6 — and Bun's own loop keeps running.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { connect, type Socket } from "node:net";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { NestedLoop, type BatchMode } from "../../../src/core/native/nested-loop.ts";
import { connectNative, NativeTcpListener, type NativeHandlers, type NativeSocket } from "../../../src/core/native/tcp.ts";
import { openListener, sockaddrUnix } from "../../../src/core/native/sockets.ts";
import { addr, C } from "../../../src/core/native/libc.ts";
import { eventually } from "../../harness.ts";

const loop = NestedLoop.get();
const maybe = loop ? describe : describe.skip;

interface Seen {
  data: Buffer[];
  ended: number;
  closed: number;
  err?: Error;
  drains: number;
  timeouts: number;
}
const seen = (): Seen => ({ data: [], ended: 0, closed: 0, drains: 0, timeouts: 0 });
const text = (s: Seen) => Buffer.concat(s.data).toString();

function handlers(onData?: (s: NativeSocket<Seen>, d: Buffer) => void): NativeHandlers<Seen> {
  return {
    data: (s, d) => {
      s.data.data.push(d);
      onData?.(s, d);
    },
    drain: (s) => void s.data.drains++,
    end: (s) => void s.data.ended++,
    close: (s, err) => {
      s.data.closed++;
      s.data.err = err;
    },
    timeout: (s) => {
      s.data.timeouts++;
      s.terminate();
    },
  };
}

/** A native listener whose accepted sockets land in `accepted`. */
function listen(o: { host?: string; allowHalfOpen?: boolean; onData?: (s: NativeSocket<Seen>, d: Buffer) => void } = {}) {
  const accepted: NativeSocket<Seen>[] = [];
  const l = new NativeTcpListener<Seen>(loop!, {
    host: o.host ?? "127.0.0.1",
    port: 0,
    allowHalfOpen: o.allowHalfOpen,
    handlers: handlers(o.onData),
    open: (s) => {
      s.data = seen();
      accepted.push(s);
    },
  });
  cleanups.push(() => l.stop());
  return { l, accepted };
}

async function client(port: number, host = "127.0.0.1"): Promise<{ sock: Socket; got: () => string; closed: Promise<boolean> }> {
  const sock = connect({ host, port });
  const chunks: Buffer[] = [];
  sock.on("data", (d: Buffer) => chunks.push(d));
  sock.on("error", () => {});
  const closed = new Promise<boolean>((r) => sock.on("close", (hadError) => r(hadError)));
  await new Promise<void>((r, j) => {
    sock.once("connect", r);
    sock.once("error", j);
  });
  return { sock, got: () => Buffer.concat(chunks).toString(), closed };
}

/** A listener, a client connected to it, and the socket the listener accepted for it. */
async function connected() {
  const { l, accepted } = listen();
  const c = await client(l.port);
  await eventually(() => accepted.length === 1, 2000);
  return { l, c, s: accepted[0]! };
}

const cleanups: Array<() => void> = [];
afterAll(() => {
  for (const c of cleanups.splice(0)) c();
});

// every behaviour holds with plain syscalls and with each batch's reads and writes through io_uring
const prior = loop?.batching ?? "off";
const ringWhy = loop?.setBatching("always");
loop?.setBatching(prior);
const modes: BatchMode[] = ringWhy ? ["off"] : ["off", "always"];
if (ringWhy) console.warn(`io_uring unavailable here (${ringWhy}): the socket tests run with plain syscalls only`);

/** Run a describe body with the loop's batches in `mode`, restoring what was set before. */
function inMode(mode: BatchMode, body: () => void) {
  return () => {
    let before: BatchMode = "off";
    beforeAll(() => {
      before = loop!.batching;
      loop!.setBatching(mode);
    });
    afterAll(() => void loop!.setBatching(before));
    body();
  };
}

for (const mode of modes) {
  maybe(`native TCP listener (batches: ${mode})`, inMode(mode, () => {
    test("echoes bytes to a node:net client, with its address; Bun's timers and servers keep running", async () => {
      const { l, accepted } = listen({ onData: (s, d) => s.write(d) });
      let ticks = 0;
      const t = setInterval(() => ticks++, 10);
      const bunServer = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response("bun ok") });
      const c = await client(l.port);
      c.sock.write("hello native");
      await eventually(() => c.got() === "hello native", 2000);
      expect(accepted[0]!.remoteAddress).toBe("127.0.0.1");
      expect(accepted[0]!.remotePort).toBe(c.sock.localPort!);
      expect(await (await fetch(`http://127.0.0.1:${bunServer.port}/`)).text()).toBe("bun ok");
      await Bun.sleep(100);
      clearInterval(t);
      bunServer.stop(true);
      expect(ticks).toBeGreaterThanOrEqual(5);
      c.sock.end();
      await eventually(() => accepted[0]!.data.closed === 1, 2000);
    });

    test("a write the kernel cannot take whole returns what it took; drain comes when the client reads again", async () => {
      const { l, accepted } = listen();
      const c = await client(l.port);
      c.sock.pause();
      await eventually(() => accepted.length === 1, 2000);
      const s = accepted[0]!;
      const big = Buffer.alloc(32 << 20, 97);
      let off = s.write(big);
      expect(off).toBeGreaterThan(0);
      expect(off).toBeLessThan(big.length);
      c.sock.resume();
      // the rest goes out drain by drain, as the proxy's writers do it
      while (off < big.length) {
        const before = s.data.drains;
        await eventually(() => s.data.drains > before, 5000);
        off += s.write(big, off, big.length - off);
      }
      await eventually(() => c.got().length === big.length, 10_000);
      s.end();
      c.sock.end();
    });

    test("half-close: the client's FIN is `end`, the socket still writes, then our FIN closes it", async () => {
      const { l, accepted } = listen({ allowHalfOpen: true });
      const c = await client(l.port);
      c.sock.end("request");
      await eventually(() => accepted[0]?.data.ended === 1, 2000);
      const s = accepted[0]!;
      expect(text(s.data)).toBe("request");
      expect(s.data.closed).toBe(0);
      expect(s.write("answer")).toBe(6);
      s.end();
      expect(await c.closed).toBe(false);
      expect(c.got()).toBe("answer");
      await eventually(() => s.data.closed === 1, 2000);
    });

    test("without allowHalfOpen the peer's FIN closes it: end, then close, once", async () => {
      const { l, accepted } = listen();
      const c = await client(l.port);
      c.sock.end();
      await eventually(() => accepted[0]?.data.closed === 1, 2000);
      expect(accepted[0]!.data.ended).toBe(1);
      await Bun.sleep(50);
      expect(accepted[0]!.data.closed).toBe(1);
    });

    test("terminate resets the connection (a client sees ECONNRESET), and close is told once", async () => {
      const { l, accepted } = listen();
      const c = await client(l.port);
      let resetSeen = "";
      c.sock.on("error", (e: NodeJS.ErrnoException) => (resetSeen = e.code ?? ""));
      await eventually(() => accepted.length === 1, 2000);
      accepted[0]!.terminate();
      accepted[0]!.terminate();
      expect(await c.closed).toBe(true);
      expect(resetSeen).toBe("ECONNRESET");
      expect(accepted[0]!.data.closed).toBe(1);
      expect(accepted[0]!.write("late")).toBe(-1);
    });

    test("pause holds data back until resume; a reset while paused still closes it with the error", async () => {
      const { c, s } = await connected();
      s.pause();
      c.sock.write("held");
      await Bun.sleep(100);
      expect(s.data.data.length).toBe(0);
      s.resume();
      await eventually(() => text(s.data) === "held", 2000);
      s.pause();
      c.sock.resetAndDestroy();
      await eventually(() => s.data.closed === 1, 2000);
      expect((s.data.err as Error & { code?: string })?.code).toBe("ECONNRESET");
    });

    test("a peer gone while we are paused and writing: the socket closes without a resume (a graceful stop once waited on it)", async () => {
      const { c, s } = await connected();
      s.pause();
      c.sock.destroy();
      await c.closed;
      await Bun.sleep(50);
      // the peer answers this with a reset, which the next write consumes (EPIPE): no EPOLLERR follows,
      // only a hang-up, while paused
      s.write("answer nobody reads");
      s.write("and more");
      await eventually(() => s.data.closed === 1, 2000);
      expect(s.data.err).toBeInstanceOf(Error);
    });

    test("after end(), as on Bun: what the peer still sends is dropped (not buffered), and its FIN closes the socket — paused or not", async () => {
      for (const paused of [false, true]) {
        const { l, accepted } = listen();
        const sock = connect({ host: "127.0.0.1", port: l.port, allowHalfOpen: true });
        sock.on("error", () => {});
        sock.on("end", () => sock.end("after your FIN"));
        await eventually(() => accepted.length === 1, 2000);
        if (paused) accepted[0]!.pause();
        accepted[0]!.end();
        await eventually(() => accepted[0]!.data.closed === 1, 2000);
        expect(accepted[0]!.data.data.length).toBe(0);
      }
    });

    test("timeout(1): an idle socket hears `timeout` within about two seconds; reads push it back", async () => {
      const { c, s } = await connected();
      s.timeout(1);
      for (let i = 0; i < 3; i++) {
        await Bun.sleep(500);
        c.sock.write("x");
      }
      expect(s.data.timeouts).toBe(0);
      await eventually(() => s.data.timeouts === 1, 3500);
      expect(await c.closed).toBe(true);
    });

    test("timeout(0) turns it off (a pooled connection's timeout goes off and on per request); on again, it fires", async () => {
      const { c, s } = await connected();
      // off and on many times, as a busy pooled connection does: the socket keeps one place in the sweep
      for (let i = 0; i < 100; i++) {
        s.timeout(1);
        s.timeout(0);
      }
      await Bun.sleep(2300);
      expect(s.data.timeouts).toBe(0);
      s.timeout(1);
      await eventually(() => s.data.timeouts === 1, 3500);
      expect(await c.closed).toBe(true);
    });

    test("IPv6: listens on ::1 and reports the client's address", async () => {
      const { l, accepted } = listen({ host: "::1", onData: (s, d) => s.write(d) });
      const c = await client(l.port, "::1");
      c.sock.write("six");
      await eventually(() => c.got() === "six", 2000);
      expect(accepted[0]!.remoteAddress).toBe("::1");
      c.sock.end();
    });

    test("a port in use is a clear error", () => {
      const { l } = listen();
      const other = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
      try {
        expect(() => new NativeTcpListener(loop!, { host: "127.0.0.1", port: other.port, handlers: handlers(), open: () => {} })).toThrow(/EADDRINUSE/);
      } finally {
        other.stop(true);
      }
      expect(l.port).toBeGreaterThan(0);
    });
  }));

  maybe(`connectNative (batches: ${mode})`, inMode(mode, () => {
    test("connects to a Bun.listen server over TCP and talks both ways", async () => {
      const server = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data: (s, d) => void s.write(`echo:${d}`) } });
      cleanups.push(() => server.stop(true));
      const s = await connectNative(loop!, { host: "127.0.0.1", port: server.port, timeoutMs: 2000 }, handlers(), seen());
      expect(s.write("hi")).toBe(2);
      await eventually(() => text(s.data) === "echo:hi", 2000);
      s.terminate();
      expect(s.data.closed).toBe(1);
    });

    test("a Unix peer that writes and closes while we are paused: every byte arrives on resume, then close", async () => {
      const dir = mkdtempSync(join(tmpdir(), "securely-native-"));
      cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
      const path = join(dir, "up.sock");
      const body = Buffer.alloc(100_000, 97);
      const server = Bun.listen({ unix: path, socket: { open: (s) => void (s.write(body), s.end()), data() {} } });
      cleanups.push(() => server.stop(true));
      const s = await connectNative(loop!, { unix: path, timeoutMs: 2000 }, handlers(), seen());
      s.pause();
      await Bun.sleep(200);
      expect(s.data.closed).toBe(0);
      s.resume();
      await eventually(() => s.data.closed === 1, 2000);
      expect(Buffer.concat(s.data.data).length).toBe(body.length);
      expect(s.data.err).toBeUndefined();
    });

    test("a Unix listener whose backlog is full refuses at once (EAGAIN is not a pending connect)", async () => {
      const dir = mkdtempSync(join(tmpdir(), "securely-native-"));
      cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
      const path = join(dir, "full.sock");
      const { sys } = loop!.libc;
      const fd = sys.socket(C.AF_UNIX, C.SOCK_STREAM | C.SOCK_NONBLOCK | C.SOCK_CLOEXEC, 0);
      const sa = sockaddrUnix(path);
      expect(sys.bind(fd, addr(sa), sa.length)).toBe(0);
      expect(sys.listen(fd, 0)).toBe(0);
      cleanups.push(() => sys.close(fd));
      const outcomes: string[] = [];
      for (let i = 0; i < 3; i++) {
        const r = await connectNative(loop!, { unix: path, timeoutMs: 1000 }, handlers(), seen()).then(
          (s) => (s.terminate(), "connected"),
          (e: Error & { code?: string }) => `${e.code}: ${e.message}`,
        );
        outcomes.push(r);
      }
      // the first connect(s) fill the backlog; the next is refused with the reason, never a dead socket
      expect(outcomes.at(-1)).toMatch(/^EAGAIN: connect EAGAIN .*full\.sock \(backlog full\)$/);
    });

    test("over a Unix socket", async () => {
      const dir = mkdtempSync(join(tmpdir(), "securely-native-"));
      cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
      const path = join(dir, "up.sock");
      const server = Bun.listen({ unix: path, socket: { data: (s, d) => void s.write(`unix:${d}`) } });
      cleanups.push(() => server.stop(true));
      const s = await connectNative(loop!, { unix: path, timeoutMs: 2000 }, handlers(), seen());
      s.write("x");
      await eventually(() => text(s.data) === "unix:x", 2000);
      s.end();
    });

    test("a closed port rejects with ECONNREFUSED and the address", async () => {
      const l = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
      const port = l.port;
      l.stop(true);
      const err = (await connectNative(loop!, { host: "127.0.0.1", port, timeoutMs: 2000 }, handlers(), seen()).catch((e) => e)) as Error & { code?: string };
      expect(err.code).toBe("ECONNREFUSED");
      expect(err.message).toContain(`127.0.0.1:${port}`);
    });

    test("a server that never accepts (full backlog) times out at timeoutMs, with `deadline` set", async () => {
      const full = openListener(loop!.libc, "tcp", "127.0.0.1", 0, 0);
      cleanups.push(() => loop!.libc.sys.close(full.fd));
      // fill the accept queue; a later SYN is dropped and its connect waits
      const fillers: Socket[] = [];
      for (let i = 0; i < 4; i++) {
        const f = connect({ host: "127.0.0.1", port: full.port });
        f.on("error", () => {});
        fillers.push(f);
      }
      cleanups.push(() => fillers.forEach((f) => f.destroy()));
      await Bun.sleep(100);
      const t0 = performance.now();
      const err = (await connectNative(loop!, { host: "127.0.0.1", port: full.port, timeoutMs: 300 }, handlers(), seen()).catch((e) => e)) as Error & { deadline?: boolean };
      expect(err.deadline).toBe(true);
      expect(err.message).toContain("timed out after 300 ms");
      expect(performance.now() - t0).toBeGreaterThanOrEqual(250);
    });
  }));
}

const ringy = loop && !ringWhy ? describe : describe.skip;

ringy("native TCP in io_uring batches", inMode("always", () => {
  test("a batch's writes go out at its end, in order, and end()'s FIN after them", async () => {
    const { l } = listen({
      onData: (s) => {
        s.write("one ");
        s.write(Buffer.from("two "));
        s.write(Buffer.from("[three ]"), 1, 6);
        s.end();
      },
    });
    const c = await client(l.port);
    const ended = new Promise<void>((r) => c.sock.on("end", r));
    c.sock.write("go");
    await ended;
    expect(c.got()).toBe("one two three ");
  });

  test("a write too big to collect goes out at once, after what the batch collected before it", async () => {
    const big = Buffer.alloc(200 * 1024, 66);
    const { l } = listen({
      onData: (s) => {
        s.write("head ");
        s.write(big);
        s.write(" tail");
        s.end();
      },
    });
    const c = await client(l.port);
    const ended = new Promise<void>((r) => c.sock.on("end", r));
    c.sock.write("go");
    await ended;
    expect(c.got()).toBe(`head ${big.toString()} tail`);
  });

  test("writes to two sockets interleaved in one batch each arrive whole and in order (the loop's arena keeps one run per socket)", async () => {
    const { l, accepted } = listen({
      onData: (s, d) => {
        if (d.toString() !== "go") return;
        const [a, b] = accepted;
        a!.write("a1 ");
        b!.write("b1 ");
        a!.write("a2 ");
        b!.write(Buffer.from("b2 "));
        a!.write("a3");
        b!.write("b3");
      },
    });
    const ca = await client(l.port);
    await eventually(() => accepted.length === 1, 2000);
    const cb = await client(l.port);
    await eventually(() => accepted.length === 2, 2000);
    ca.sock.write("go");
    await eventually(() => ca.got() === "a1 a2 a3" && cb.got() === "b1 b2 b3", 2000);
    ca.sock.destroy();
    cb.sock.destroy();
  });

  test("a batch whose writes outgrow the loop's arena (1 MiB) still delivers every byte to every client", async () => {
    const piece = (i: number, k: number) => Buffer.alloc(20 * 1024, 97 + ((i * 3 + k) % 26));
    const index = new Map<NativeSocket<Seen>, number>();
    const { l, accepted } = listen({
      onData: (s) => {
        const i = index.get(s)!;
        for (let k = 0; k < 3; k++) s.write(piece(i, k));
      },
    });
    const clients: Array<{ sock: Socket; bytes: () => Buffer }> = [];
    for (let i = 0; i < 24; i++) {
      const sock = connect({ host: "127.0.0.1", port: l.port });
      const got: Buffer[] = [];
      sock.on("data", (d: Buffer) => got.push(d));
      await new Promise((r) => sock.once("connect", r));
      await eventually(() => accepted.length === i + 1, 2000);
      index.set(accepted[i]!, i);
      clients.push({ sock, bytes: () => Buffer.concat(got) });
    }
    // all at once: the reads land in a few batches, each writing up to 24 × 60 KiB
    for (const c of clients) c.sock.write("go");
    await eventually(() => clients.every((c) => c.bytes().length === 60 * 1024), 5000);
    clients.forEach((c, i) => expect(c.bytes().equals(Buffer.concat([piece(i, 0), piece(i, 1), piece(i, 2)]))).toBe(true));
    for (const c of clients) c.sock.destroy();
  });

  test("lend: reads come to `lent` as views of a reused buffer, valid during the call; off again, fresh Buffers to `data`", async () => {
    const lent: Array<{ buffer: ArrayBufferLike; text: string }> = [];
    const { l, accepted } = listen();
    const c = await client(l.port);
    await eventually(() => accepted.length === 1, 2000);
    const s = accepted[0]!;
    (s as unknown as { handlers: NativeHandlers<Seen> }).handlers.lent = (_s, buf, at, n) => void lent.push({ buffer: buf.buffer, text: buf.toString("latin1", at, at + n) });
    s.lend = true;
    for (const m of ["one", "two", "three"]) {
      c.sock.write(m);
      await eventually(() => lent.length > 0 && lent.map((x) => x.text).join("").endsWith(m), 2000);
    }
    expect(lent.map((x) => x.text).join("")).toBe("onetwothree");
    expect(new Set(lent.map((x) => x.buffer)).size).toBeLessThan(lent.length);
    expect(s.data.data).toHaveLength(0);
    s.lend = false;
    c.sock.write("four");
    await eventually(() => text(s.data) === "four", 2000);
    c.sock.destroy();
  });

  test("a socket closed or reset in the batch that wrote to it still sends what write() took first", async () => {
    for (const how of ["destroy", "terminate"] as const) {
      const { l } = listen({
        onData: (s) => {
          s.write(`answer before ${how}`);
          s[how]();
        },
      });
      const c = await client(l.port);
      c.sock.write("go");
      const hadError = await c.closed;
      expect(c.got()).toBe(`answer before ${how}`);
      expect(hadError).toBe(how === "terminate"); // the reset still comes, after the bytes
    }
  });

  test("a batch write the kernel has no room for: the rest follows on EPOLLOUT, later writes queue behind it, write() refuses past 1 MiB queued, then drain", async () => {
    const pieces: Buffer[] = [];
    const { l, accepted } = listen({
      onData: (sock) => {
        // one batch: 40 KiB pieces until write() takes less than it is given
        for (let i = 0; ; i++) {
          const p = Buffer.alloc(40 * 1024, 65 + (i % 26));
          const n = sock.write(p);
          pieces.push(p.subarray(0, n));
          if (n < p.length) break;
        }
      },
    });
    const sock = connect({ host: "127.0.0.1", port: l.port });
    const got: Buffer[] = [];
    let bytes = 0;
    sock.on("data", (d: Buffer) => {
      got.push(d);
      bytes += d.length;
    });
    await new Promise((r) => sock.once("connect", r));
    sock.pause();
    await eventually(() => accepted.length === 1, 2000);
    const s = accepted[0]!;
    // fill the kernel's buffers first (a write too big to collect goes out at once), so the batch finds no room
    const filler = Buffer.alloc(32 << 20, 46);
    const taken = s.write(filler);
    expect(taken).toBeLessThan(filler.length);
    sock.write("go");
    await eventually(() => pieces.length > 0, 2000);
    const queued = pieces.reduce((a, p) => a + p.length, 0);
    expect(queued).toBeLessThanOrEqual(1 << 20);
    expect(queued).toBeGreaterThan((1 << 20) - 40 * 1024);
    expect(s.data.drains).toBe(0);
    sock.resume();
    await eventually(() => bytes === taken + queued, 10_000);
    const all = Buffer.concat(got);
    expect(all.subarray(0, taken).equals(filler.subarray(0, taken))).toBe(true);
    expect(all.subarray(taken).equals(Buffer.concat(pieces))).toBe(true);
    await eventually(() => s.data.drains === 1, 2000);
    sock.destroy();
  });

  test("bytes read ahead for a socket an earlier callback of the batch paused wait for its resume", async () => {
    const { l, accepted } = listen({
      onData: (sock) => {
        for (const o of accepted) if (o !== sock) o.pause();
      },
    });
    const a = await client(l.port);
    const b = await client(l.port);
    await eventually(() => accepted.length === 2, 2000);
    // written together: both are readable when the loop next looks, so one batch reads both ahead
    a.sock.write("to a");
    b.sock.write("to b");
    await eventually(() => accepted.some((s) => s.data.data.length > 0), 2000);
    await Bun.sleep(50);
    const [first, second] = accepted[0]!.data.data.length > 0 ? [accepted[0]!, accepted[1]!] : [accepted[1]!, accepted[0]!];
    expect(text(first.data)).toBe(first === accepted[0] ? "to a" : "to b");
    expect(second.data.data.length).toBe(0);
    second.resume();
    await eventually(() => second.data.data.length === 1, 2000);
    expect(text(second.data)).toBe(second === accepted[0] ? "to a" : "to b");
    a.sock.end();
    b.sock.end();
  });

  test("a ring the kernel stops taking turns batching off for good; the batch's bytes still arrive, by plain syscalls", async () => {
    const { l } = listen({ onData: (s, d) => s.write(d) });
    const c = await client(l.port);
    c.sock.write("first");
    await eventually(() => c.got() === "first", 2000);
    // the ring's descriptor gone: its next enter fails (EBADF)
    loop!.libc.sys.close((loop as unknown as { ring: { fd: number } }).ring.fd);
    const errors: string[] = [];
    const origError = console.error;
    console.error = (m: string) => void errors.push(String(m));
    try {
      c.sock.write(" second");
      await eventually(() => c.got() === "first second", 2000);
    } finally {
      console.error = origError;
    }
    expect(loop!.batching).toBe("off");
    expect(errors.join("\n")).toContain("io_uring_enter: EBADF");
    c.sock.write(" third");
    await eventually(() => c.got() === "first second third", 2000);
    expect(loop!.setBatching("always")).toBeUndefined(); // a fresh ring
    expect(loop!.batching).toBe("always");
    c.sock.end();
  });

  test("bytes write() took before end() still all arrive when the peer's FIN comes while they wait for room", async () => {
    let queued = 0;
    const { l, accepted } = listen({
      allowHalfOpen: true,
      onData: (s) => {
        for (let i = 0; i < 16; i++) queued += s.write(Buffer.alloc(64 * 1024, 66));
        s.end();
      },
    });
    const sock = connect({ host: "127.0.0.1", port: l.port, allowHalfOpen: true });
    let bytes = 0;
    let ended = false;
    sock.on("data", (d: Buffer) => void (bytes += d.length));
    sock.on("end", () => void (ended = true));
    await new Promise((r) => sock.once("connect", r));
    sock.pause();
    await eventually(() => accepted.length === 1, 2000);
    const s = accepted[0]!;
    const taken = s.write(Buffer.alloc(32 << 20, 65)); // the kernel's buffers full: the batch's bytes queue
    sock.write("go");
    await eventually(() => queued > 0, 2000);
    sock.end(); // the peer half-closes while our bytes wait
    await Bun.sleep(50);
    expect(s.data.closed).toBe(0);
    sock.resume();
    await eventually(() => ended, 10_000);
    expect(bytes).toBe(taken + queued);
    await eventually(() => s.data.closed === 1, 2000);
    expect(s.data.err).toBeUndefined();
  });

  /** A native Unix socket S, one more (A) whose bytes "pause"/"resume" S from its callback, and their Bun-side peers. */
  async function pausedByAnother() {
    const dir = mkdtempSync(join(tmpdir(), "securely-ring-"));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const peers: Array<{ write(s: string): number; terminate(): void }> = [];
    const server = Bun.listen({ unix: join(dir, "s.sock"), socket: { open: (p) => void peers.push(p), data() {} } });
    cleanups.push(() => server.stop(true));
    let S!: NativeSocket<Seen>;
    await connectNative(loop!, { unix: join(dir, "s.sock"), timeoutMs: 2000 }, handlers((_a, d) => {
      const t = d.toString();
      if (t.includes("pause")) S.pause();
      if (t.includes("resume")) S.resume();
    }), seen());
    await eventually(() => peers.length === 1, 2000);
    S = await connectNative(loop!, { unix: join(dir, "s.sock"), timeoutMs: 2000 }, handlers(), seen());
    await eventually(() => peers.length === 2, 2000);
    return { S, toA: peers[0]!, toS: peers[1]! };
  }

  test("bytes kept for a paused socket survive its peer hanging up: delivered on resume, then a clean close", async () => {
    const { S, toA, toS } = await pausedByAnother();
    toA.write("pause"); // one batch: A's callback pauses S after S's bytes were read ahead
    toS.write("part1");
    await Bun.sleep(100);
    expect(S.data.data.length).toBe(0);
    toS.terminate();
    await Bun.sleep(100);
    expect(S.data.closed).toBe(0);
    S.resume();
    await eventually(() => S.data.closed === 1, 2000);
    expect(text(S.data)).toBe("part1");
  });

  test("bytes kept for a paused socket go before bytes read after its resume", async () => {
    const { S, toA, toS } = await pausedByAnother();
    toA.write("pause");
    toS.write("part1");
    await Bun.sleep(100);
    toS.write("part2");
    toA.write("resume"); // S resumed by A's callback in the batch where S's own event brings part2
    toS.terminate();
    await eventually(() => S.data.closed === 1, 2000);
    expect(text(S.data)).toBe("part1part2");
  });

  test("an owner's close handler that throws after a failed batch send is reported; the batch's other sends finish", async () => {
    const accepted: NativeSocket<{ name: string }>[] = [];
    const l = new NativeTcpListener<{ name: string }>(loop!, {
      host: "127.0.0.1",
      port: 0,
      handlers: {
        data: (_s, d) => {
          if (d.toString() !== "go") return;
          const [victim, other] = [accepted[1]!, accepted[2]!];
          loop!.libc.sys.shutdown(victim.fd, C.SHUT_WR); // its send now fails (EPIPE)
          victim.write("x");
          other.write("hello ");
        },
        drain: () => {},
        close: (s) => {
          if (s.data.name === "victim") throw new Error("owner's close handler threw");
        },
      },
      open: (s) => {
        s.data = { name: ["trigger", "victim", "other"][accepted.length]! };
        accepted.push(s);
      },
    });
    cleanups.push(() => l.stop());
    const socks: Socket[] = [];
    for (let i = 0; i < 3; i++) {
      const c = connect({ host: "127.0.0.1", port: l.port });
      c.on("error", () => {});
      await new Promise((r) => c.once("connect", r));
      await eventually(() => accepted.length === i + 1, 2000);
      socks.push(c);
    }
    let got = "";
    socks[2]!.on("data", (d) => void (got += d));
    const errors: string[] = [];
    const origError = console.error;
    console.error = (m: string) => void errors.push(String(m));
    try {
      socks[0]!.write("go");
      await eventually(() => got === "hello ", 2000);
      accepted[2]!.write("world"); // outside any batch, after the throw
      await eventually(() => got === "hello world", 2000);
    } finally {
      console.error = origError;
    }
    expect(errors.join("\n")).toContain("owner's close handler threw");
    socks.forEach((c) => c.destroy());
  });
}));
