/** dns:serve as a child process on port 0, queried with dig, raw UDP/TCP sockets and the CLI. */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createSocket } from "node:dgram";
import packet from "dns-packet";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { eventually, runSecurely, startSecurely, tempProject, type Running } from "../harness.ts";
import { dig } from "./dig.ts";
import { tcpExchange, udpExchange } from "./exchange.ts";

const ZONE_FILE = `$ORIGIN example.com.
$TTL 300
@       3600 IN SOA ns1 hostmaster 2024010101 3600 600 1209600 60
        IN NS ns1
ns1     IN A 192.0.2.53
www     IN A 192.0.2.1
        IN AAAA 2001:db8::1
alias   IN CNAME www
@       IN MX 10 mail
mail    IN A 192.0.2.25
*.wild  IN TXT "wildcard"
a.b.c   IN TXT "deep"
sub     IN NS ns.sub
ns.sub  IN A 192.0.2.99
big     IN TXT "${"x".repeat(200)}"
big     IN TXT "${"y".repeat(200)}"
big     IN TXT "${"z".repeat(200)}"
svc     IN HTTPS 1 . alpn=h2,h3 port=8443
`;

let server: Running;
let upstream: Running;
let port: number;
let project: ReturnType<typeof tempProject>;

beforeAll(async () => {
  const up = tempProject(`metrics:\n  enabled: false\ndns:\n  listen: ["127.0.0.1:0"]\n  zones:\n    upstream.example:\n      records:\n        - "www 120 A 198.51.100.7"\n`);
  upstream = await startSecurely(["dns:serve"], { env: up.env });
  const upPort = upstream.port("dns");
  project = tempProject(`metrics:
  enabled: false
dns:
  listen: ["127.0.0.1:0"]
  local_domains: { test: 127.0.0.1 }
  axfr: { allow: ["127.0.0.1"] }
  reload_interval: 100ms
  nsid: securely-test-1
  query_log: { enabled: true }
  forward:
    upstreams: ["127.0.0.1:9", "127.0.0.1:${upPort}"]
    timeout: 300ms
    allow: ["127.0.0.1"]
  zones:
    example.com:
      file: example.com.zone
    inline.example:
      records: ["www 60 A 203.0.113.5", "@ TXT \\"inline\\""]
`);
  writeFileSync(join(project.dir, "example.com.zone"), ZONE_FILE);
  server = await startSecurely(["dns:serve"], { env: project.env });
  port = server.port("dns");
});

afterAll(async () => {
  await server?.stop();
  await upstream?.stop();
});

describe("dns:serve listeners", () => {
  test("prints UDP and TCP on the same port", () => {
    const addrs = server.listening.get("dns")!;
    expect(addrs).toEqual([`127.0.0.1:${port}`, `127.0.0.1:${port}`]);
    expect(server.output()).toContain(`dns listening on udp 127.0.0.1:${port}`);
    expect(server.output()).toContain(`dns listening on tcp 127.0.0.1:${port}`);
  });
});

describe("authoritative answers (dig)", () => {
  test("A with AA, the query's case preserved, EDNS echoed with our payload size", async () => {
    const r = await dig(port, "+norec", "WwW.ExAmPlE.cOm", "A");
    expect(r.status).toBe("NOERROR");
    expect(r.flags).toEqual(["qr", "aa", "ra"]);
    expect(r.answer).toEqual(["WwW.ExAmPlE.cOm. 300 IN A 192.0.2.1"]);
    expect(r.opt).toBe("version: 0, flags:; udp: 1232");
  });
  test("RD is echoed, RA set because forwarding is on; no EDNS in → no OPT out", async () => {
    const r = await dig(port, "+noedns", "www.example.com");
    expect(r.flags).toEqual(["qr", "aa", "rd", "ra"]);
    expect(r.opt).toBeUndefined();
  });
  test("NXDOMAIN carries the SOA with the negative TTL (RFC 2308)", async () => {
    const r = await dig(port, "nope.example.com");
    expect([r.status, r.flags.includes("aa")]).toEqual(["NXDOMAIN", true]);
    expect(r.authority).toEqual(["example.com. 60 IN SOA ns1.example.com. hostmaster.example.com. 2024010101 3600 600 1209600 60"]);
  });
  test("NODATA: NOERROR, empty answer, SOA in authority", async () => {
    const r = await dig(port, "mail.example.com", "AAAA");
    expect([r.status, r.answer.length, r.authority[0]?.split(" ")[3]]).toEqual(["NOERROR", 0, "SOA"]);
  });
  test("empty non-terminal b.c is NODATA, not NXDOMAIN", async () => {
    expect((await dig(port, "b.c.example.com", "TXT")).status).toBe("NOERROR");
  });
  test("CNAME chased inside the zone", async () => {
    expect((await dig(port, "alias.example.com")).answer).toEqual(["alias.example.com. 300 IN CNAME www.example.com.", "www.example.com. 300 IN A 192.0.2.1"]);
  });
  test("wildcard synthesis at any depth below the wildcard's parent", async () => {
    expect((await dig(port, "a.b.wild.example.com", "TXT")).answer).toEqual(['a.b.wild.example.com. 300 IN TXT "wildcard"']);
  });
  test("MX answer adds the exchange's address", async () => {
    const r = await dig(port, "example.com", "MX");
    expect(r.answer).toEqual(["example.com. 300 IN MX 10 mail.example.com."]);
    expect(r.additional).toEqual(["mail.example.com. 300 IN A 192.0.2.25"]);
  });
  test("delegation: referral with AA=0, NS in authority and glue", async () => {
    const r = await dig(port, "+norec", "host.sub.example.com");
    expect([r.status, r.flags, r.answer]).toEqual(["NOERROR", ["qr", "ra"], []]);
    expect(r.authority).toEqual(["sub.example.com. 300 IN NS ns.sub.example.com."]);
    expect(r.additional).toEqual(["ns.sub.example.com. 300 IN A 192.0.2.99"]);
  });
  test("HTTPS records (our SVCB codec) as dig decodes them", async () => {
    expect((await dig(port, "svc.example.com", "HTTPS")).answer).toEqual(['svc.example.com. 300 IN HTTPS 1 . alpn="h2,h3" port=8443']);
  });
  test("ANY over UDP is one RRset (RFC 8482)", async () => {
    expect((await dig(port, "+notcp", "www.example.com", "ANY")).answer.length).toBe(1);
  });
  test("unknown type: NOERROR, empty, AA (RFC 8906 §8.1.2)", async () => {
    const r = await dig(port, "www.example.com", "TYPE1000");
    expect([r.status, r.answer.length, r.flags.includes("aa")]).toEqual(["NOERROR", 0, true]);
  });
  test("inline YAML zone is served beside the file zone", async () => {
    expect((await dig(port, "www.inline.example")).answer).toEqual(["www.inline.example. 60 IN A 203.0.113.5"]);
  });
  test("local-dev domain: every name under .test resolves to 127.0.0.1 and ::1", async () => {
    expect((await dig(port, "+short", "my.app.test")).raw.trim()).toBe("127.0.0.1");
    expect((await dig(port, "+short", "deep.er.app.test", "AAAA")).raw.trim()).toBe("::1");
    expect((await dig(port, "+short", "test")).raw.trim()).toBe("127.0.0.1");
  });
});

describe("EDNS, truncation and TCP", () => {
  test("an answer over 512 bytes without EDNS sets TC; the full answer comes over TCP", async () => {
    const udp = await dig(port, "+noedns", "+ignore", "big.example.com", "TXT");
    expect(udp.flags).toContain("tc");
    expect(udp.answer.length).toBe(0);
    const tcp = await dig(port, "+tcp", "big.example.com", "TXT");
    expect(tcp.answer.length).toBe(3);
    const retried = await dig(port, "+noedns", "big.example.com", "TXT");
    expect(retried.answer.length).toBe(3);
  });
  test("the client's EDNS payload size is honoured", async () => {
    expect((await dig(port, "+bufsize=1232", "big.example.com", "TXT")).answer.length).toBe(3);
    expect((await dig(port, "+bufsize=512", "+ignore", "big.example.com", "TXT")).flags).toContain("tc");
  });
  test("EDNS version 1 gets BADVERS with an OPT of version 0 and no AA (RFC 8906 §8.2.2)", async () => {
    const r = await dig(port, "+edns=1", "+noednsneg", "www.example.com");
    expect(r.status).toBe("BADVERS");
    expect(r.flags.includes("aa")).toBe(false);
    expect(r.opt).toContain("version: 0");
  });
  test("NSID is sent to clients that ask (RFC 5001), and only to them", async () => {
    expect((await dig(port, "+nsid", "www.example.com")).raw).toContain('; NSID: 73 65 63 75 72 65 6c 79 2d 74 65 73 74 2d 31 ("securely-test-1")');
    expect((await dig(port, "www.example.com")).raw).not.toContain("NSID");
  });
  test("DO is echoed (RFC 8906 §8.2.8)", async () => {
    expect((await dig(port, "+dnssec", "www.example.com")).opt).toContain("flags: do");
  });
  test("unknown opcode gives NOTIMP with empty sections (RFC 8906 §8.1.4)", async () => {
    const r = await dig(port, "+opcode=15", "+noedns", "+header-only", "www.example.com");
    expect(r.status).toBe("NOTIMP");
    expect(r.raw).toContain("QUERY: 0, ANSWER: 0, AUTHORITY: 0, ADDITIONAL: 0");
  });
  test("pipelined TCP: two queries in one write, two answers on one connection", async () => {
    const frame = (id: number, name: string) => packet.streamEncode({ id, flags: 0, questions: [{ name, type: "A" }] });
    const answers = await tcpExchange(port, Buffer.concat([frame(1, "www.example.com"), frame(2, "mail.example.com")]), 2);
    expect(answers.map((a) => [a.id, a.answers[0].data]).sort()).toEqual([[1, "192.0.2.1"], [2, "192.0.2.25"]]);
  });
});

describe("refusals and transfers", () => {
  test("names outside our zones are REFUSED without RD (forwarding needs recursion)", async () => {
    expect((await dig(port, "+norec", "www.elsewhere.org")).status).toBe("REFUSED");
  });
  test("AXFR over TCP from an allowed address: SOA first and last", async () => {
    const r = await dig(port, "example.com", "AXFR");
    const lines = r.raw.split("\n").filter((l) => /^\S+\.\s+\d+\s+IN\s+/.test(l));
    expect(lines[0]).toContain("SOA");
    expect(lines.at(-1)).toContain("SOA");
    expect(lines.length).toBe(17);
  });
  test("AXFR over UDP is refused", async () => {
    const [resp] = await udpExchange(port, [packet.encode({ id: 9, questions: [{ name: "example.com", type: "AXFR" }] })]);
    expect(packet.decode(resp!).rcode).toBe("REFUSED");
  });
  test("AXFR of a name that is not a zone apex is NOTAUTH", async () => {
    const [resp] = await tcpExchange(port, packet.streamEncode({ id: 3, questions: [{ name: "www.example.com", type: "AXFR" }] }), 1);
    expect(resp.rcode).toBe("NOTAUTH");
  });
});

describe("forwarding", () => {
  test("names outside local zones go upstream (failing over from a dead one) and come back from the cache", async () => {
    const r = await dig(port, "www.upstream.example");
    expect(r.status).toBe("NOERROR");
    expect(r.flags).toEqual(["qr", "rd", "ra"]);
    expect(r.answer).toEqual(["www.upstream.example. 120 IN A 198.51.100.7"]);
    const again = await dig(port, "www.upstream.example");
    expect(again.answer[0]).toMatch(/^www\.upstream\.example\. 1[12]\d IN A 198\.51\.100\.7$/);
    await eventually(() => server.output().includes('"source":"cache"'));
  });
  test("upstream NXDOMAIN is passed through and cached negatively", async () => {
    expect((await dig(port, "nope.upstream.example")).status).toBe("NXDOMAIN");
  });
  test("an upstream that REFUSES (no zone there) is tried, and the last answer is returned", async () => {
    expect((await dig(port, "www.nowhere.invalid")).status).toBe("REFUSED");
  });
});

describe("abuse", () => {
  test("garbage and truncated packets get FORMERR or nothing, and the server keeps answering", async () => {
    const junk = [
      Buffer.from([1, 2, 3]),
      Buffer.alloc(12, 0xff),
      Buffer.from("GET / HTTP/1.1\r\nHost: x\r\n\r\n"),
      packet.encode({ id: 5, questions: [{ name: "www.example.com", type: "A" }] }).subarray(0, 20),
      Buffer.concat([Buffer.from([0, 7, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0]), Buffer.alloc(300, 63)]),
      ...Array.from({ length: 50 }, (_, i) => Buffer.from(Array.from({ length: 12 + ((i * 37) % 200) }, (_, j) => (i * 131 + j * 17) & 0xff))),
    ];
    const replies = await udpExchange(port, junk, 300);
    for (const r of replies) expect([1, 4, 0, 5, 3]).toContain(r[3]! & 0x0f);
    const truncated = replies.find((r) => r.readUInt16BE(0) === 5);
    expect(truncated && truncated[3]! & 0x0f).toBe(1); // FORMERR
    // TCP: a length prefix promising more than is sent, then close; a zero length; an oversized one
    await tcpExchange(port, Buffer.from([0, 100, 1, 2, 3]), 0);
    await tcpExchange(port, Buffer.from([0, 0]), 0);
    expect((await dig(port, "www.example.com")).answer).toEqual(["www.example.com. 300 IN A 192.0.2.1"]);
  });
  test("a bounded flood of 3000 queries stays correct", async () => {
    const sock = createSocket("udp4");
    const names = ["www.example.com", "mail.example.com", "nope.example.com", "ns1.example.com", "a.test"];
    const got = new Map<number, any>();
    sock.on("message", (m) => {
      const d = packet.decode(m);
      got.set(d.id, d);
    });
    await new Promise<void>((r) => sock.bind(0, "127.0.0.1", () => r()));
    const total = 3000;
    const deadline = Date.now() + 15_000;
    for (let i = 0; i < total && Date.now() < deadline; i++) {
      sock.send(packet.encode({ id: i, questions: [{ name: names[i % names.length]!, type: "A" }] }), port, "127.0.0.1");
      if (i % 100 === 99) await eventually(() => got.size >= i - 200, 5000, 5);
    }
    await eventually(() => got.size >= total * 0.98, 5000, 20);
    sock.close();
    for (const [id, d] of got) {
      const name = names[id % names.length]!;
      expect(d.questions[0].name).toBe(name);
      if (name === "nope.example.com") expect(d.rcode).toBe("NXDOMAIN");
      else expect(d.answers.length).toBe(1);
    }
    expect((await dig(port, "www.example.com")).status).toBe("NOERROR");
  });
});

describe("live zones from the store", () => {
  test("a record added by the CLI while serving is answered within a second, and the SOA serial moves", async () => {
    const add = await runSecurely(["dns:zone:add", "live.example"], { env: project.env });
    expect(add.stderr).toBe("");
    expect(add.code).toBe(0);
    const before = await eventually(async () => {
      const r = await dig(port, "live.example", "SOA");
      return r.status === "NOERROR" && r.answer.length ? Number(r.answer[0]!.split(" ")[6]) : undefined;
    });
    const rec = await runSecurely(["dns:record:add", "live.example", "www", "A", "192.0.2.77"], { env: project.env });
    expect(rec.code).toBe(0);
    await eventually(async () => (await dig(port, "www.live.example")).answer[0] === "www.live.example. 3600 IN A 192.0.2.77", 3000);
    const after = Number((await dig(port, "live.example", "SOA")).answer[0]!.split(" ")[6]);
    expect(after).toBeGreaterThan(before!);
    await runSecurely(["dns:record:remove", "live.example", "www", "A"], { env: project.env });
    await eventually(async () => (await dig(port, "www.live.example")).status === "NXDOMAIN", 3000);
  });
  test("store records merge into a file zone of the same name", async () => {
    await runSecurely(["dns:zone:add", "example.com"], { env: project.env });
    await runSecurely(["dns:record:add", "example.com", "extra", "A", "192.0.2.200"], { env: project.env });
    await eventually(async () => (await dig(port, "extra.example.com")).answer.length === 1, 3000);
    expect((await dig(port, "www.example.com")).answer).toEqual(["www.example.com. 300 IN A 192.0.2.1"]);
  });
});

describe("dns:query", () => {
  test("asks a server and prints the sections; --json for scripts; --tcp", async () => {
    const r = await runSecurely(["dns:query", "alias.example.com", "--server", `127.0.0.1:${port}`], { env: project.env });
    expect(r.stdout).toContain(";; alias.example.com. A: NOERROR, flags: qr aa rd ra");
    expect(r.stdout).toContain("www.example.com.\t300\tIN\tA\t192.0.2.1");
    const j = JSON.parse((await runSecurely(["--json", "dns:query", "big.example.com", "TXT", "--server", `127.0.0.1:${port}`, "--tcp"], { env: project.env })).stdout);
    expect([j.proto, j.rcode, j.answer.length]).toEqual(["tcp", "NOERROR", 3]);
    const bad = await runSecurely(["dns:query", "x", "NOPE", "--server", `127.0.0.1:${port}`], { env: project.env });
    expect([bad.code, bad.stderr.trim()]).toEqual([2, 'securely: unknown record type "NOPE" — use A, AAAA, MX, TXT, … or TYPEnnn']);
  });
});

describe("securely serve with dns enabled", () => {
  test("runs the dns service beside metrics, which exposes query counters", async () => {
    const p = tempProject(`metrics:\n  listen: 127.0.0.1:0\ndns:\n  enabled: true\n  listen: ["127.0.0.1:0", "[::1]:0"]\n  local_domains: { test: 127.0.0.1 }\n`);
    const s = await startSecurely(["serve"], { env: p.env });
    try {
      const dnsPort = s.port("dns");
      expect(s.listening.get("dns")!.length).toBe(4);
      expect((await dig(dnsPort, "+short", "site.test")).raw.trim()).toBe("127.0.0.1");
      const v6 = s.listening.get("dns")!.find((a) => a.startsWith("[::1]"))!;
      const r6 = Bun.spawnSync(["dig", "@::1", "-p", v6.slice(v6.lastIndexOf(":") + 1), "+short", "site.test", "AAAA"]);
      expect(r6.stdout.toString().trim()).toBe("::1");
      const metricsText = await eventually(async () => {
        const t = await (await fetch(`http://127.0.0.1:${s.port("metrics")}/metrics`)).text();
        return t.includes('dns_queries_total{proto="udp",qtype="A",rcode="NOERROR"}') ? t : undefined;
      }, 5000, 200);
      expect(metricsText).toContain("dns_query_duration_seconds_bucket");
      const health = (await (await fetch(`http://127.0.0.1:${s.port("metrics")}/health`)).json()) as any;
      expect(health.services.dns).toMatchObject({ ready: true, zones: [{ name: "test", sources: ["local"] }] });
    } finally {
      expect(await s.stop("SIGTERM")).toBe(0);
    }
  });
});

describe("several processes on one port (threads)", () => {
  test("threads: 2 runs two worker processes answering on one UDP and TCP port", async () => {
    const p = tempProject(`threads: 2\nmetrics:\n  enabled: false\ndns:\n  listen: ["127.0.0.1:0"]\n  local_domains: { test: 127.0.0.1 }\n`);
    const s = await startSecurely(["dns:serve"], { env: p.env });
    try {
      const shared = s.port("dns");
      expect(s.listening.get("dns")).toEqual([`127.0.0.1:${shared}`, `127.0.0.1:${shared}`]);
      for (let i = 0; i < 5; i++) {
        expect((await dig(shared, "+short", `n${i}.test`)).raw.trim()).toBe("127.0.0.1");
        expect((await dig(shared, "+short", "+tcp", `n${i}.test`)).raw.trim()).toBe("127.0.0.1");
      }
      if (Bun.which("ss")) {
        const pids = Bun.spawnSync(["ss", "-lunpH", `sport = :${shared}`]).stdout.toString().match(/pid=\d+/g) ?? [];
        expect(new Set(pids).size).toBe(2);
      }
    } finally {
      await s.stop();
    }
  });
});

describe("reload and graceful stop", () => {
  test("SIGHUP applies new inline zones and local domains without a restart", async () => {
    const p = tempProject(`metrics:\n  enabled: false\ndns:\n  listen: ["127.0.0.1:0"]\n  zones:\n    hup.example:\n      records: ["www A 192.0.2.1"]\n`);
    const s = await startSecurely(["dns:serve"], { env: p.env });
    try {
      const dnsPort = s.port("dns");
      expect((await dig(dnsPort, "+short", "www.hup.example")).raw.trim()).toBe("192.0.2.1");
      writeFileSync(p.config, readFileSync(p.config, "utf8").replace("192.0.2.1", "192.0.2.2") + "  local_domains: { localdev: 127.0.0.1 }\n");
      s.signal("SIGHUP");
      await eventually(async () => (await dig(dnsPort, "+short", "www.hup.example")).raw.trim() === "192.0.2.2", 5000, 100);
      expect((await dig(dnsPort, "+short", "x.localdev")).raw.trim()).toBe("127.0.0.1");
      // keys read at start only are named, not silently ignored
      writeFileSync(p.config, readFileSync(p.config, "utf8").replace("dns:\n", "dns:\n  tcp_idle_timeout: 30\n  tcp_nodelay: false\n"));
      s.signal("SIGHUP");
      await s.waitFor(/needs a restart.*dns\.tcp_idle_timeout.*dns\.tcp_nodelay|needs a restart.*dns\.tcp_nodelay.*dns\.tcp_idle_timeout/);
    } finally {
      expect(await s.stop("SIGTERM")).toBe(0);
    }
  });
  test("SIGTERM lets a forwarded query in flight get its answer", async () => {
    // an upstream that answers after 600 ms
    const slow = createSocket("udp4");
    await new Promise<void>((r) => slow.bind(0, "127.0.0.1", () => r()));
    let asked = false;
    slow.on("message", (m, rinfo) => {
      asked = true;
      const q = packet.decode(m);
      setTimeout(() => slow.send(packet.encode({ id: q.id, type: "response", questions: q.questions, answers: [{ name: q.questions[0].name, type: "A", ttl: 60, data: "198.51.100.99" }] }), rinfo.port, rinfo.address), 600);
    });
    const p = tempProject(`metrics:\n  enabled: false\ndns:\n  listen: ["127.0.0.1:0"]\n  forward:\n    upstreams: ["127.0.0.1:${slow.address().port}"]\n`);
    const s = await startSecurely(["dns:serve"], { env: p.env });
    try {
      const pending = dig(s.port("dns"), "+short", "+time=3", "slow.example");
      await eventually(() => asked); // the query is now waiting on the upstream
      s.signal("SIGTERM");
      expect((await pending).raw.trim()).toBe("198.51.100.99");
      expect(await s.proc.exited).toBe(0);
    } finally {
      slow.close();
      await s.stop();
    }
  });
});
