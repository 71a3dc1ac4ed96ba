import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { planSteering, steeringAvailable, steerToNew, stopSteering, type SteerPlan } from "../../../src/core/server/steer.ts";

// Real SO_REUSEPORT groups inside this process: Bun.serve({ reusePort }) on one port several
// times stands for the old and the new instance's sockets; each answers with its name.
const linux = await steeringAvailable();

function serve(id: string, port = 0, reusePort = true) {
  return Bun.serve({ hostname: "127.0.0.1", port, reusePort, fetch: () => new Response(id) });
}

function listenInodes(port: number): string[] {
  return readFileSync("/proc/net/tcp", "utf8")
    .split("\n")
    .slice(1)
    .map((l) => l.trim().split(/\s+/))
    .filter((f) => f[3] === "0A" && parseInt(f[1]!.split(":")[1]!, 16) === port)
    .map((f) => f[9]!);
}

/** Which servers answer `n` fresh connections (bounded: n requests, each on a new connection). */
async function answeredBy(port: number, n = 40): Promise<Set<string>> {
  const seen = new Set<string>();
  for (let i = 0; i < n; i++) seen.add(await (await fetch(`http://127.0.0.1:${port}/`, { headers: { connection: "close" } })).text());
  return seen;
}

describe.skipIf(!linux)("reuseport steering (SO_ATTACH_REUSEPORT_CBPF)", () => {
  test("2 old + 2 new sockets: new connections reach only new sockets while the old ones close one by one; detaching restores the hash", async () => {
    const old0 = serve("old0");
    const port = old0.port!;
    const old1 = serve("old1", port);
    const oldInodes = listenInodes(port);
    expect(oldInodes).toHaveLength(2);
    const new0 = serve("new0", port);
    const new1 = serve("new1", port);
    try {
      const plan: SteerPlan = { table: "tcp", addr: "0100007F", port, oldInodes, first: 2, count: 1 };
      expect(await steerToNew([plan], () => {})).toBe(true);
      expect([...(await answeredBy(port))]).toEqual(["new0"]);
      await old0.stop(true); // the last socket (new1) moves into old0's slot; index 2 is still new0
      expect([...(await answeredBy(port))]).toEqual(["new0"]);
      await old1.stop(true); // index 2 is past the end now: the kernel's hash over new0 and new1
      expect([...(await answeredBy(port))].sort()).toEqual(["new0", "new1"]);
      await stopSteering([`http 127.0.0.1:${port}`], () => {});
      expect([...(await answeredBy(port))].sort()).toEqual(["new0", "new1"]);
    } finally {
      for (const s of [old0, old1, new0, new1]) s.stop(true);
    }
  });

  test("planSteering skips groups without both old and new sockets, and UDP; a 1 old + 2 new program never picks the old socket", async () => {
    const a = serve("old");
    const port = a.port!;
    const b = serve("new-a", port);
    const c = serve("new-b", port);
    try {
      // all three are in this process: pretend nothing is old, then everything is
      expect(planSteering([`http 127.0.0.1:${port}`], [])).toEqual([]);
      expect(planSteering([`http 127.0.0.1:${port}`], [process.pid])).toEqual([]);
      expect(planSteering([`udp 127.0.0.1:${port}`], [process.pid])).toEqual([]);
      // 1 old + 2 new: "return 1 + random % 2" — both new sockets, never the old one
      // (any member may attach: the program belongs to the group)
      const plan: SteerPlan = { table: "tcp", addr: "0100007F", port, oldInodes: listenInodes(port), first: 1, count: 2 };
      expect(await steerToNew([plan], () => {})).toBe(true);
      expect([...(await answeredBy(port, 60))].sort()).toEqual(["new-a", "new-b"]);
    } finally {
      for (const s of [a, b, c]) s.stop(true);
    }
  });

  test("a socket outside any reuseport group cannot take a program: one warning, false, and the caller carries on", async () => {
    const lone = serve("lone", 0, false);
    const warnings: string[] = [];
    try {
      const plan: SteerPlan = { table: "tcp", addr: "0100007F", port: lone.port!, oldInodes: listenInodes(lone.port!), first: 1, count: 1 };
      expect(await steerToNew([plan], (m) => warnings.push(m))).toBe(false);
      expect(await steerToNew([plan], (m) => warnings.push(m))).toBe(false);
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toContain("SO_ATTACH_REUSEPORT_CBPF");
      expect(warnings[0]).toContain("falling back to plain SO_REUSEPORT overlap");
      expect(await (await fetch(`http://127.0.0.1:${lone.port!}/`)).text()).toBe("lone");
    } finally {
      lone.stop(true);
    }
  });

  test("no socket of the plan in this process: nothing to do, no warning", async () => {
    const warnings: string[] = [];
    expect(await steerToNew([{ table: "tcp", addr: "0100007F", port: 1, oldInodes: ["1"], first: 1, count: 1 }], (m) => warnings.push(m))).toBe(true);
    await stopSteering(["http 127.0.0.1:1"], (m) => warnings.push(m));
    expect(warnings).toEqual([]);
  });
});
