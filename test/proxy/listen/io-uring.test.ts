/**
 * proxy.io_uring: the proxy's native sockets with each batch's reads and writes through io_uring —
 * many concurrent clients and large bodies both ways answered byte for byte, the setting reaching
 * the loop, and a bad value refused with the key named.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { NestedLoop } from "../../../src/core/native/nested-loop.ts";
import { origin, startProxy, toOrigin } from "../helpers.ts";

const loop = NestedLoop.get();
const before = loop?.batching ?? "off";
afterAll(() => void loop?.setBatching(before));
const ringWhy = loop?.setBatching("always");
loop?.setBatching(before);
// the suite's other runs force proxy.io (Bun's sockets: no loop) or proxy.io_uring by env, which beats the file
const forcedIo = process.env.SECURELY_PROXY__IO === "eventloop";
const forcedRing = process.env.SECURELY_PROXY__IO_URING !== undefined;
const maybe = loop && !ringWhy && !forcedIo ? describe : describe.skip;

const proxyYaml = (mode: string, port: number) => toOrigin(port, `  io_uring: ${mode}\n`);

maybe("proxy.io_uring", () => {
  test("always: 48 concurrent keep-alive clients get their own answers, and 1 MiB goes through both ways intact", async () => {
    const o = origin(async (req) => {
      const u = new URL(req.url);
      if (req.method === "POST") {
        const b = new Uint8Array(await req.arrayBuffer());
        return new Response(`${b.length}:${b.reduce((a, x) => (a + x) % 65521, 0)}`);
      }
      if (u.pathname === "/big") return new Response(new Uint8Array(1 << 20).map((_, i) => i % 251));
      return new Response(`you asked for ${u.pathname}`);
    });
    const p = await startProxy(proxyYaml("always", o.port));
    expect(loop!.batching).toBe("always");
    for (let round = 0; round < 3; round++) {
      const answers = await Promise.all(Array.from({ length: 48 }, (_, i) => fetch(`${p.base}/c${i}/r${round}`).then((r) => r.text())));
      answers.forEach((a, i) => expect(a).toBe(`you asked for /c${i}/r${round}`));
    }
    const down = new Uint8Array(await (await fetch(`${p.base}/big`)).arrayBuffer());
    expect(down.length).toBe(1 << 20);
    expect(down.every((x, i) => x === i % 251)).toBe(true);
    const up = new Uint8Array(1 << 20).map((_, i) => (i * 7) % 256);
    const sum = up.reduce((a, x) => (a + x) % 65521, 0);
    const echoed = await Promise.all(Array.from({ length: 4 }, () => fetch(`${p.base}/up`, { method: "POST", body: up }).then((r) => r.text())));
    for (const e of echoed) expect(e).toBe(`${1 << 20}:${sum}`);
  });

  test.skipIf(forcedRing)("the setting reaches the loop: off makes plain syscalls, auto batches", async () => {
    const o = origin(() => new Response("ok"));
    const off = await startProxy(proxyYaml("off", o.port));
    expect(loop!.batching).toBe("off");
    expect(await (await fetch(`${off.base}/`)).text()).toBe("ok");
    await off.stop();
    const auto = await startProxy(proxyYaml("auto", o.port));
    expect(loop!.batching).toBe("auto");
    expect(await (await fetch(`${auto.base}/`)).text()).toBe("ok");
  });
});

test.skipIf(forcedRing)("a value other than auto, always or off is refused, naming proxy.io_uring", async () => {
  const o = origin(() => new Response("ok"));
  const err = (await startProxy(proxyYaml("sometimes", o.port)).catch((e) => e)) as Error;
  expect(err).toBeInstanceOf(Error);
  expect(err.message).toContain("proxy.io_uring");
  expect(err.message).toMatch(/auto|always|off/);
});

test("always with Bun's sockets (io: eventloop) is refused: there is no batch to run through io_uring", async () => {
  const o = origin(() => new Response("ok"));
  const err = (await startProxy(`  io: eventloop\n${proxyYaml("always", o.port)}`).catch((e) => e)) as Error;
  expect(err).toBeInstanceOf(Error);
  expect(err.message).toContain("proxy.io_uring: always needs native I/O: proxy.io is eventloop");
});
