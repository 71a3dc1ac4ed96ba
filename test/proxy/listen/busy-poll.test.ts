/**
 * proxy.busy_poll_us: the native loop polls before sleeping after a busy batch — requests one after
 * another and at once are answered as without it, the setting reaches the loop, and a value out of
 * bounds is refused with the key named.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { NestedLoop } from "../../../src/core/native/nested-loop.ts";
import { origin, startProxy, toOrigin } from "../helpers.ts";

const loop = NestedLoop.get();
const before = loop?.busyPollUs ?? 0;
afterAll(() => loop?.setBusyPoll(before));
// the suite's eventloop run forces Bun's sockets by env (no loop to poll)
const maybe = loop && process.env.SECURELY_PROXY__IO !== "eventloop" ? describe : describe.skip;

const proxyYaml = (us: number, port: number) => toOrigin(port, `  busy_poll_us: ${us}\n`);

maybe("proxy.busy_poll_us", () => {
  test("50: 200 requests one after another and 32 at once get their own answers; the setting reaches the loop and 0 turns it off", async () => {
    const o = origin((req) => new Response(`you asked for ${new URL(req.url).pathname}`));
    const p = await startProxy(proxyYaml(50, o.port));
    expect(loop!.busyPollUs).toBe(50);
    for (let i = 0; i < 200; i++) expect(await (await fetch(`${p.base}/seq${i}`)).text()).toBe(`you asked for /seq${i}`);
    const answers = await Promise.all(Array.from({ length: 32 }, (_, i) => fetch(`${p.base}/c${i}`).then((r) => r.text())));
    answers.forEach((a, i) => expect(a).toBe(`you asked for /c${i}`));
    await p.stop();
    const off = await startProxy(proxyYaml(0, o.port));
    expect(loop!.busyPollUs).toBe(0);
    expect(await (await fetch(`${off.base}/x`)).text()).toBe("you asked for /x");
  });
});

test("a value above 1000 µs is refused, naming proxy.busy_poll_us and the bound", async () => {
  const o = origin(() => new Response("ok"));
  const err = (await startProxy(proxyYaml(5000, o.port)).catch((e) => e)) as Error;
  expect(err).toBeInstanceOf(Error);
  expect(err.message).toContain("proxy.busy_poll_us");
  expect(err.message).toContain("1000");
});
