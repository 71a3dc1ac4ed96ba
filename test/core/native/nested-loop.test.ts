/**
 * The NestedLoop shares the main thread with Bun: Bun's timers, servers and promise jobs keep
 * running while it owns the thread, and a callback that throws does not stop it.
 */
import { describe, expect, spyOn, test } from "bun:test";
import { connect } from "node:net";
import { NestedLoop } from "../../../src/core/native/nested-loop.ts";
import { NativeTcpListener } from "../../../src/core/native/tcp.ts";
import { eventually } from "../../harness.ts";

const loop = NestedLoop.get();
const maybe = loop ? describe : describe.skip;

maybe("NestedLoop", () => {
  test("a callback that throws is reported, and the loop serves the next connection", async () => {
    const errors = spyOn(console, "error").mockImplementation(() => {});
    const l = new NativeTcpListener<{ n: number }>(loop!, {
      host: "127.0.0.1",
      port: 0,
      open: (s) => (s.data = { n: 0 }),
      handlers: {
        data: (s, d) => {
          const t = d.toString();
          if (t === "throw") throw new Error("callback boom");
          s.write(`ok:${t}`);
        },
        drain: () => {},
        close: () => {},
      },
    });
    try {
      const talk = async (msg: string) => {
        const c = connect({ host: "127.0.0.1", port: l.port });
        let got = "";
        c.on("data", (d: Buffer) => (got += d.toString()));
        c.on("error", () => {});
        await new Promise((r) => c.once("connect", r));
        c.write(msg);
        await Bun.sleep(50);
        c.destroy();
        return got;
      };
      expect(await talk("throw")).toBe("");
      expect(await talk("after")).toBe("ok:after");
      await eventually(() => errors.mock.calls.length >= 1, 2000);
      expect(errors.mock.calls.map((c) => String(c[0])).join("\n")).toContain("callback boom");
    } finally {
      l.stop();
      errors.mockRestore();
    }
  });

  test("setImmediate chains run at Bun's pace, not one step per yield, while a native listener keeps the loop running", async () => {
    const l = new NativeTcpListener<null>(loop!, { host: "127.0.0.1", port: 0, open: (s) => (s.data = null), handlers: { data() {}, drain() {}, close() {} } });
    try {
      await Bun.sleep(20); // the loop owns the thread now (blocked in its epoll_wait between yields)
      const t0 = performance.now();
      for (let i = 0; i < 100; i++) await new Promise<void>((r) => setImmediate(r));
      // one step per 5 ms yield would take 500 ms
      expect(performance.now() - t0).toBeLessThan(100);
      // a cleared immediate is not waited for: the loop blocks again instead of spinning
      const cpu0 = process.cpuUsage();
      for (let i = 0; i < 10; i++) clearImmediate(setImmediate(() => {}));
      await Bun.sleep(300);
      const used = process.cpuUsage(cpu0);
      expect((used.user + used.system) / 1000).toBeLessThan(150);
    } finally {
      l.stop();
    }
  });

  for (const busyPollUs of [0, 1000]) test(`a Bun timer fires on time (within the yield period) while native sockets keep the loop busy${busyPollUs ? ", busy polling" : ""}`, async () => {
    const before = loop!.busyPollUs;
    loop!.setBusyPoll(busyPollUs);
    const l = new NativeTcpListener<null>(loop!, {
      host: "127.0.0.1",
      port: 0,
      open: (s) => (s.data = null),
      handlers: { data: (s, d) => void s.write(d), drain: () => {}, close: () => {} },
    });
    const c = connect({ host: "127.0.0.1", port: l.port });
    c.on("error", () => {});
    await new Promise((r) => c.once("connect", r));
    // ping-pong as fast as the loop answers, for 300 ms, while a 100 ms timer is measured
    let rounds = 0;
    c.on("data", () => {
      rounds++;
      c.write("x");
    });
    c.write("x");
    const t0 = performance.now();
    const late = await new Promise<number>((r) => setTimeout(() => r(performance.now() - t0 - 100), 100));
    await Bun.sleep(200);
    c.destroy();
    l.stop();
    loop!.setBusyPoll(before);
    expect(rounds).toBeGreaterThan(100);
    expect(late).toBeLessThan(50);
  });
});
