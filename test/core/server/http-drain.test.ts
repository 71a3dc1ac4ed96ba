import { describe, expect, test } from "bun:test";
import { connect } from "node:net";
import { HttpDrain } from "../../../src/core/server/http-drain.ts";

/** One raw keep-alive connection: send a request, read one response head. */
function rawConn(port: number) {
  const s = connect(port, "127.0.0.1");
  let buf = "";
  let closed = false;
  s.on("data", (d) => (buf += d));
  s.on("close", () => (closed = true));
  s.on("error", () => {});
  return {
    async get(path: string): Promise<string> {
      const from = buf.length;
      s.write(`GET ${path} HTTP/1.1\r\nHost: t\r\n\r\n`);
      for (let i = 0; i < 200 && !buf.slice(from).includes("\r\n\r\n"); i++) await Bun.sleep(10);
      return buf.slice(from);
    },
    closed: () => closed,
    end: () => s.destroy(),
  };
}

describe("HttpDrain", () => {
  test("a graceful stop lingers answering Connection: close, lets in-flight requests finish, then closes the listener", async () => {
    const drain = new HttpDrain();
    const server = Bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      fetch: drain.wrap(async (req: Request) => {
        if (new URL(req.url).pathname === "/slow") await Bun.sleep(600);
        return new Response("ok");
      }),
    });
    const port = server.port!;
    const c = rawConn(port);
    expect(await c.get("/")).not.toMatch(/connection: close/i);
    const slow = fetch(`http://127.0.0.1:${port}/slow`).then((r) => r.status);
    await Bun.sleep(50);
    const stopped = drain.stop(server, { graceful: true, timeoutMs: 5000 }, 300);
    await Bun.sleep(50);
    expect(drain.isDraining).toBe(true);
    expect(await c.get("/")).toMatch(/connection: close/i);
    expect(await slow).toBe(200);
    await stopped;
    expect(await fetch(`http://127.0.0.1:${port}/`).then(() => "served", () => "refused")).toBe("refused");
    c.end();
  });

  test("the deadline cuts requests that run longer; a fast stop cuts at once", async () => {
    const drain = new HttpDrain();
    const server = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: drain.wrap(async () => (await Bun.sleep(10_000), new Response("late"))) });
    const slow = fetch(`http://127.0.0.1:${server.port}/`).then(() => "finished", () => "cut");
    await Bun.sleep(50);
    await drain.stop(server, { graceful: true, timeoutMs: 300 }, 100);
    expect(await slow).toBe("cut");

    const d2 = new HttpDrain();
    const s2 = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: d2.wrap(async () => (await Bun.sleep(10_000), new Response("late"))) });
    const slow2 = fetch(`http://127.0.0.1:${s2.port}/`).then(() => "finished", () => "cut");
    await Bun.sleep(50);
    await d2.stop(s2, { graceful: false, timeoutMs: 0 });
    expect(await slow2).toBe("cut");
  });
});
