/** WebSocket upgrade passthrough (bridged at message level; see docs/proxy.md). */
import { describe, expect, test } from "bun:test";
import { indent, origin, startProxy } from "./helpers.ts";

const ws = origin(
  (req, server) => {
    if (server.upgrade(req, { data: { path: new URL(req.url).pathname, xff: req.headers.get("x-forwarded-for") } })) return undefined;
    return new Response("not a websocket", { status: 400 });
  },
  {
    websocket: {
      open(s: any) {
        s.send(`hello ${s.data.path} from ${s.data.xff}`);
      },
      message(s: any, m: string | Buffer) {
        if (m === "close-me") return s.close(4001, "asked");
        s.send(typeof m === "string" ? `echo:${m}` : m);
      },
    },
  },
);

function collect(sock: WebSocket): { next(): Promise<any>; closed: Promise<CloseEvent> } {
  const queue: any[] = [];
  const waiters: Array<(v: any) => void> = [];
  sock.onmessage = (e) => (waiters.length ? waiters.shift()!(e.data) : queue.push(e.data));
  const closed = new Promise<CloseEvent>((r) => (sock.onclose = r));
  return { next: () => (queue.length ? Promise.resolve(queue.shift()) : new Promise((r) => waiters.push(r))), closed };
}

describe("websocket", () => {
  test("messages flow both ways, text and binary; server close propagates with its code", async () => {
    const p = await startProxy(indent(`listen: ["127.0.0.1:0"]\nupstreams:\n  ws: { servers: ["${ws.addr}"] }\nroutes:\n  - { upstream: ws, strip_prefix: /ws }\n`));
    const sock = new WebSocket(`ws://127.0.0.1:${p.port}/ws/chat`);
    sock.binaryType = "arraybuffer";
    const c = collect(sock);
    expect(await c.next()).toBe("hello /chat from 127.0.0.1");
    sock.send("hi");
    expect(await c.next()).toBe("echo:hi");
    sock.send(new Uint8Array([1, 2, 3]));
    expect(new Uint8Array(await c.next())).toEqual(new Uint8Array([1, 2, 3]));
    sock.send("close-me");
    const ev = await c.closed;
    expect(ev.code).toBe(4001);
    expect(ev.reason).toBe("asked");
    await p.stop();
  });

  test("an upstream that refuses the upgrade gives 502", async () => {
    const plain = origin(() => new Response("no upgrade here"));
    const p = await startProxy(indent(`listen: ["127.0.0.1:0"]\nupstreams:\n  p: { servers: ["${plain.addr}"] }\nroutes:\n  - upstream: p\n`));
    const r = await fetch(`${p.base}/`, { headers: { upgrade: "websocket", connection: "Upgrade", "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ==", "sec-websocket-version": "13" } });
    expect(r.status).toBe(502);
    await p.stop();
  });
});
