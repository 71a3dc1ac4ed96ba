import { afterAll, describe, expect, test } from "bun:test";
import { createSocket, type Socket } from "node:dgram";
import packet from "dns-packet";
import { AnswerCache } from "../../../src/dns/resolver/cache.ts";
import { Forwarder } from "../../../src/dns/resolver/forwarder.ts";
import { RCODE, TYPE } from "../../../src/dns/wire/constants.ts";

/** A scripted upstream on loopback: UDP (and TCP) answering with `reply(question)`. */
interface Fake {
  port: number;
  udpQueries: number;
  tcpQueries: number;
  close(): void;
}
const fakes: Fake[] = [];
afterAll(() => fakes.forEach((f) => f.close()));

async function fakeUpstream(reply: (q: any, proto: "udp" | "tcp") => any | undefined): Promise<Fake> {
  const udp: Socket = createSocket("udp4");
  await new Promise<void>((r) => udp.bind(0, "127.0.0.1", () => r()));
  const port = udp.address().port;
  const f: Fake = { port, udpQueries: 0, tcpQueries: 0, close: () => {} };
  udp.on("message", (m, rinfo) => {
    f.udpQueries++;
    const q = packet.decode(m);
    const r = reply(q.questions[0], "udp");
    if (r) udp.send(packet.encode({ id: q.id, type: "response", flags: packet.RECURSION_AVAILABLE, questions: q.questions, ...r }), rinfo.port, rinfo.address);
  });
  const tcp = Bun.listen({
    hostname: "127.0.0.1",
    port,
    socket: {
      data(s, chunk) {
        f.tcpQueries++;
        const q = packet.decode(Buffer.from(chunk).subarray(2));
        const r = reply(q.questions[0], "tcp");
        if (r) s.write(packet.streamEncode({ id: q.id, type: "response", questions: q.questions, ...r }));
      },
    },
  });
  f.close = () => {
    udp.close();
    tcp.stop(true);
  };
  fakes.push(f);
  return f;
}

const A = (name: string, ip: string, ttl = 300) => ({ name, type: "A", ttl, data: ip });
const q = (name: string, type: number = TYPE.A) => ({ name, type, class: 1 });
const flags = { dnssecOk: false, cd: false };
const cache = { size: 100, maxTtl: 86400, minTtl: 0, negativeMaxTtl: 3600 };

describe("Forwarder", () => {
  test("fails over from a silent upstream to the next, then prefers the one that answered", async () => {
    const silent = await fakeUpstream(() => undefined);
    const good = await fakeUpstream((qq) => ({ answers: [A(qq.name, "198.51.100.1")] }));
    const f = new Forwarder({ upstreams: [{ host: "127.0.0.1", port: silent.port }, { host: "127.0.0.1", port: good.port }], routes: [], timeoutMs: 200 });
    const r = await f.resolve(q("a.example"), flags);
    expect([r.rcode, r.answers[0]!.data, r.from]).toEqual([RCODE.NOERROR, "198.51.100.1", `127.0.0.1:${good.port}`]);
    const before = silent.udpQueries;
    await f.resolve(q("b.example"), flags);
    expect(silent.udpQueries).toBe(before); // sticky to the working upstream
    f.close();
  });
  test("retries over TCP when the UDP answer is truncated", async () => {
    const up = await fakeUpstream((qq, proto) => (proto === "udp" ? { flags: packet.TRUNCATED_RESPONSE, answers: [] } : { answers: [A(qq.name, "198.51.100.2"), A(qq.name, "198.51.100.3")] }));
    const f = new Forwarder({ upstreams: [{ host: "127.0.0.1", port: up.port }], routes: [], timeoutMs: 1000 });
    const r = await f.resolve(q("big.example"), flags);
    expect(r.answers.map((a) => a.data)).toEqual(["198.51.100.2", "198.51.100.3"]);
    expect(up.tcpQueries).toBe(1);
    f.close();
  });
  test("SERVFAIL when every upstream is silent", async () => {
    const silent = await fakeUpstream(() => undefined);
    const errors: string[] = [];
    const f = new Forwarder({ upstreams: [{ host: "127.0.0.1", port: silent.port }], routes: [], timeoutMs: 100, onUpstreamError: (m) => errors.push(m) });
    expect((await f.resolve(q("x.example"), flags)).rcode).toBe(RCODE.SERVFAIL);
    expect(errors[0]).toContain("did not answer within 100 ms");
    f.close();
  });
  test("conditional forwarding: the longest matching route wins", async () => {
    const corp = await fakeUpstream((qq) => ({ answers: [A(qq.name, "10.0.0.1")] }));
    const lab = await fakeUpstream((qq) => ({ answers: [A(qq.name, "10.9.9.9")] }));
    const def = await fakeUpstream((qq) => ({ answers: [A(qq.name, "198.51.100.9")] }));
    const up = (f: Fake) => [{ host: "127.0.0.1", port: f.port }];
    const f = new Forwarder({ upstreams: up(def), routes: [{ suffix: "corp.example", upstreams: up(corp) }, { suffix: "lab.corp.example", upstreams: up(lab) }], timeoutMs: 500 });
    expect((await f.resolve(q("www.corp.example"), flags)).answers[0]!.data).toBe("10.0.0.1");
    expect((await f.resolve(q("x.LAB.corp.example"), flags)).answers[0]!.data).toBe("10.9.9.9");
    expect((await f.resolve(q("www.other.example"), flags)).answers[0]!.data).toBe("198.51.100.9");
    f.close();
  });
  test("identical questions in flight share one upstream exchange; the cache answers the next", async () => {
    const up = await fakeUpstream((qq) => ({ answers: [A(qq.name, "198.51.100.4", 60)] }));
    const hits: boolean[] = [];
    const f = new Forwarder({ upstreams: [{ host: "127.0.0.1", port: up.port }], routes: [], timeoutMs: 500, cache, onCache: (h) => hits.push(h) });
    await Promise.all([f.resolve(q("same.example"), flags), f.resolve(q("same.example"), flags), f.resolve(q("same.example"), flags)]);
    expect(up.udpQueries).toBe(1);
    const cached = await f.resolve(q("SAME.example"), flags);
    expect([cached.from, up.udpQueries, hits]).toEqual(["cache", 1, [false, false, false, true]]);
    f.close();
  });
  test("a reply from the wrong address or for another question is ignored", async () => {
    const up = await fakeUpstream((qq) => ({ answers: [A(qq.name, "198.51.100.5")] }));
    const f = new Forwarder({ upstreams: [{ host: "127.0.0.1", port: up.port }], routes: [], timeoutMs: 500 });
    // a spoofer sprays IDs from another port while the real answer is on its way
    const spoof = createSocket("udp4");
    const done = f.resolve(q("victim.example"), flags);
    for (let id = 0; id < 50; id++) spoof.send(packet.encode({ id, type: "response", questions: [{ name: "victim.example", type: "A" }], answers: [A("victim.example", "6.6.6.6")] }), 1, "127.0.0.1");
    expect((await done).answers[0]!.data).toBe("198.51.100.5");
    spoof.close();
    f.close();
  });
});

describe("AnswerCache", () => {
  const soa = (ttl: number, minimum: number) => ({ name: "example", type: TYPE.SOA, class: 1, ttl, data: { mname: "a", rname: "b", serial: 1, refresh: 1, retry: 1, expire: 1, minimum } });
  test("positive TTL is the smallest in the answer, capped; TTLs count down", () => {
    let now = 0;
    const c = new AnswerCache({ ...cache, maxTtl: 100 }, () => now);
    const a = { rcode: 0, answers: [{ name: "x", type: 1, class: 1, ttl: 300, data: "192.0.2.1" }, { name: "x", type: 1, class: 1, ttl: 200, data: "192.0.2.2" }], authorities: [], additionals: [] };
    expect(c.put("k", a)).toBe(100);
    now = 30_000;
    expect(c.get("k")!.answers.map((r) => r.ttl)).toEqual([270, 170]);
    now = 100_000;
    expect(c.get("k")).toBeUndefined();
  });
  test("negative answers: min(SOA TTL, MINIMUM, cap); without an SOA not cached (RFC 2308 §5)", () => {
    const c = new AnswerCache({ ...cache, negativeMaxTtl: 50 });
    expect(c.put("a", { rcode: RCODE.NXDOMAIN, answers: [], authorities: [soa(300, 30)], additionals: [] })).toBe(30);
    expect(c.put("b", { rcode: RCODE.NOERROR, answers: [], authorities: [soa(300, 600)], additionals: [] })).toBe(50);
    expect(c.put("c", { rcode: RCODE.NXDOMAIN, answers: [], authorities: [], additionals: [] })).toBe(0);
    expect(c.put("d", { rcode: RCODE.SERVFAIL, answers: [], authorities: [], additionals: [] })).toBe(0);
  });
  test("least recently used entries go first when full", () => {
    const c = new AnswerCache({ ...cache, size: 2 });
    const v = { rcode: 0, answers: [{ name: "x", type: 1, class: 1, ttl: 60, data: "192.0.2.1" }], authorities: [], additionals: [] };
    c.put("a", v);
    c.put("b", v);
    c.get("a");
    c.put("c", v);
    expect([c.get("a") !== undefined, c.get("b"), c.get("c") !== undefined]).toEqual([true, undefined, true]);
  });
});
