/** Hooks files: Pingora's phases as exported functions of a .ts file named by a route. */
import { describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { tempDir } from "../harness.ts";
import { indent, origin, startProxy } from "./helpers.ts";

const a = origin((req) => Response.json({ who: "a", path: new URL(req.url).pathname, tag: req.headers.get("x-tag") }));
const b = origin((req) => Response.json({ who: "b", path: new URL(req.url).pathname, tag: req.headers.get("x-tag") }));
const dir = tempDir();

describe("hooks", () => {
  test("a path a hook decodes into CR/LF or non-latin1 characters is percent-encoded, never split into header lines", async () => {
    const seen: string[] = [];
    const raw = Bun.listen({
      hostname: "127.0.0.1",
      port: 0,
      socket: {
        data(s, d) {
          seen.push(Buffer.from(d).toString("latin1"));
          s.write("HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok");
        },
      },
    });
    const file = join(dir, "decode.ts");
    writeFileSync(file, "export function upstreamRequestFilter(ctx) { ctx.path = decodeURIComponent(ctx.path); }\n");
    const p = await startProxy(indent(`listen: ["127.0.0.1:0"]\nupstreams:\n  u: { servers: ["127.0.0.1:${raw.port}"] }\nroutes:\n  - { upstream: u, hooks: ${file} }\n`));
    const r = await fetch(`${p.base}/a%C4%8D%C4%8AX-Injected:%201%0D%0AX:%20y`);
    expect(r.status).toBe(200);
    const head = seen.join("");
    expect(head.split("\r\n")[0]).toBe("GET /a%C4%8D%C4%8AX-Injected:%201%0D%0AX:%20y HTTP/1.1");
    expect(head).not.toContain("\r\nX-Injected");
    raw.stop(true);
  });

  test("requestFilter, upstreamPeer, upstreamRequestFilter, responseFilter and logging run in order", async () => {
    const file = join(dir, "hooks.ts");
    writeFileSync(
      file,
      `
export const seen: string[] = [];
export function requestFilter(ctx, req) {
  seen.push("request");
  if (ctx.headers.get("x-block")) return new Response("blocked by hook", { status: 418 });
  ctx.state.t = 1;
}
export function upstreamPeer(ctx) {
  seen.push("peer");
  return ctx.headers.get("x-pick") === "b" ? "${b.addr}" : undefined;
}
export function upstreamRequestFilter(ctx) {
  ctx.headers.set("x-tag", "from-hook");
  ctx.path = "/rewritten" + ctx.path;
}
export function responseFilter(ctx, headers) {
  headers.set("x-peer", ctx.peer);
  headers.set("x-status", String(ctx.status));
}
export function logging(ctx) {
  globalThis.__lastLog = { route: ctx.route, status: ctx.status, peer: ctx.peer };
}
`,
    );
    const p = await startProxy(indent(`listen: ["127.0.0.1:0"]\nupstreams:\n  u: { servers: ["${a.addr}", "${b.addr}"], balance: first_available }\nroutes:\n  - { name: hooked, upstream: u, hooks: ${file} }\n`));
    const r = await fetch(`${p.base}/x`, { headers: { "x-pick": "b" } });
    expect(await r.json()).toEqual({ who: "b", path: "/rewritten/x", tag: "from-hook" });
    expect(r.headers.get("x-peer")).toBe(b.addr);
    expect(r.headers.get("x-status")).toBe("200");
    expect((globalThis as any).__lastLog).toEqual({ route: "hooked", status: 200, peer: b.addr });
    expect(((await (await fetch(`${p.base}/y`)).json()) as any).who).toBe("a");
    const blocked = await fetch(`${p.base}/x`, { headers: { "x-block": "1" } });
    expect(blocked.status).toBe(418);
    expect(await blocked.text()).toBe("blocked by hook");
    await p.stop();
  });

  test("errorWhileProxy replaces the error response; failToConnect can stop retries", async () => {
    const file = join(dir, "errors.ts");
    writeFileSync(file, `export function failToConnect(ctx, e) { globalThis.__ftc = (globalThis.__ftc ?? 0) + 1; return false; }\nexport function errorWhileProxy(ctx, e) { return new Response("sorry: " + ctx.error.split(" failed")[0], { status: 599 }); }\n`);
    const l = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
    const dead = `127.0.0.1:${l.port}`;
    l.stop(true);
    const p = await startProxy(indent(`listen: ["127.0.0.1:0"]\nupstreams:\n  u: { servers: ["${dead}", "${a.addr}"], balance: first_available }\nroutes:\n  - { upstream: u, hooks: ${file} }\n`));
    const r = await fetch(`${p.base}/`);
    expect(r.status).toBe(599);
    expect(await r.text()).toBe(`sorry: connect to ${dead}`);
    expect((globalThis as any).__ftc).toBe(1);
    await p.stop();
  });

  test("a default export built with defineProxyHooks from the virtual 'securely' module", async () => {
    const { installSdk } = await import("../../src/core/sdk/index.ts");
    const { modules } = await import("../../src/main.ts");
    installSdk(modules);
    const file = join(dir, "typed.ts");
    writeFileSync(file, `import { defineProxyHooks } from "securely";\nexport default defineProxyHooks({ responseFilter(ctx, headers) { headers.set("x-typed", ctx.route); } });\n`);
    const p = await startProxy(indent(`listen: ["127.0.0.1:0"]\nupstreams:\n  u: { servers: ["${a.addr}"] }\nroutes:\n  - { name: typed, upstream: u, hooks: ${file} }\n`));
    expect((await fetch(`${p.base}/`)).headers.get("x-typed")).toBe("typed");
    await p.stop();
  });

  test("a hooks file that fails to load, or exports an unknown phase, stops the start with its path", async () => {
    const broken = join(dir, "broken.ts");
    writeFileSync(broken, "export function requestFilter( {\n");
    await expect(startProxy(indent(`listen: ["127.0.0.1:0"]\nroutes:\n  - { respond: { status: 200 }, hooks: ${broken} }\n`))).rejects.toThrow(broken);
    const unknown = join(dir, "unknown.ts");
    writeFileSync(unknown, "export function requestFiltr() {}\n");
    await expect(startProxy(indent(`listen: ["127.0.0.1:0"]\nroutes:\n  - { respond: { status: 200 }, hooks: ${unknown} }\n`))).rejects.toThrow(/exports 'requestFiltr', which is not a phase/);
    await expect(startProxy(indent(`listen: ["127.0.0.1:0"]\nroutes:\n  - { respond: { status: 200 }, hooks: ${join(dir, "missing.ts")} }\n`))).rejects.toThrow(/not found/);
  });
});
