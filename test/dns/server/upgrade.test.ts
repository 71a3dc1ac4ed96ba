/**
 * Zero-downtime upgrade of `serve` with DNS on the native I/O thread: while the old instance hands
 * over (SIGQUIT + `serve -u`), a client querying over UDP every few milliseconds gets every answer
 * within one retry, as a stub resolver would — the old instance closes its UDP socket as soon as it
 * stops reading it, so no query waits in a socket nobody reads.
 */
import { expect, setDefaultTimeout, test } from "bun:test";
import { createSocket } from "node:dgram";
import packet from "dns-packet";
import { startSecurely, tempProject } from "../../harness.ts";
import { freePort } from "../../core/server/helpers.ts";

setDefaultTimeout(30_000);

test("UDP queries during SIGQUIT + serve -u are all answered (one retry allowed)", async () => {
  const port = await freePort();
  const p = tempProject(`dns:\n  enabled: true\n  listen: ["127.0.0.1:${port}"]\n  zones:\n    up.example:\n      records: ["www 60 A 192.0.2.80"]\n`);
  const old = await startSecurely(["serve"], { env: p.env });
  const sock = createSocket("udp4");
  await new Promise<void>((r) => sock.bind(0, "127.0.0.1", () => r()));
  const waiting = new Map<number, () => void>();
  sock.on("message", (m) => waiting.get(m.readUInt16BE(0))?.());
  let id = 0;
  const stats = { asked: 0, answered: 0, retried: 0, lost: 0 };
  const ask = async () => {
    const qid = id++ & 0xffff;
    const q = packet.encode({ id: qid, questions: [{ name: "www.up.example", type: "A" }] });
    stats.asked++;
    for (let attempt = 0; attempt < 2; attempt++) {
      const got = new Promise<boolean>((r) => {
        const t = setTimeout(() => r(false), 300);
        waiting.set(qid, () => (clearTimeout(t), r(true)));
      });
      sock.send(q, port, "127.0.0.1");
      if (await got) {
        stats.answered++;
        return;
      }
      stats.retried++;
    }
    stats.lost++;
  };
  let running = true;
  const loop = (async () => {
    const end = Date.now() + 20_000;
    while (running && Date.now() < end) {
      await ask();
      await Bun.sleep(2);
    }
  })();
  try {
    await Bun.sleep(200);
    old.signal("SIGQUIT");
    const next = await startSecurely(["serve", "-u"], { env: p.env });
    expect(await old.proc.exited).toBe(0);
    await Bun.sleep(300);
    running = false;
    await loop;
    expect(next.output()).toContain("native I/O thread");
    expect(stats.asked).toBeGreaterThan(50);
    expect(stats).toMatchObject({ lost: 0, answered: stats.asked });
    console.log(`dns upgrade: ${JSON.stringify(stats)}`);
    await next.stop();
  } finally {
    running = false;
    sock.close();
  }
});
