/**
 * The native I/O thread (dns.io) against real clients: forwarding delegated to the main thread
 * over UDP and TCP, TCP limits enforced by the thread, oversized datagrams, the event-loop path
 * still selectable, and what `status` reports. serve.test.ts runs the whole RFC suite on the
 * default (native) path.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import packet from "dns-packet";
import { createSocket } from "node:dgram";
import { networkInterfaces } from "node:os";
import { eventually, runSecurely, startSecurely, tempProject, type Running } from "../../harness.ts";
import { dig } from "../dig.ts";
import { tcpExchange, udpExchange } from "../exchange.ts";

let upstream: Running;
let upPort: number;

beforeAll(async () => {
  const up = tempProject(`metrics:\n  enabled: false\ndns:\n  listen: ["127.0.0.1:0"]\n  zones:\n    upstream.example:\n      records: ["www 120 A 198.51.100.7", "mail 120 A 198.51.100.25"]\n`);
  upstream = await startSecurely(["dns:serve"], { env: up.env });
  upPort = upstream.port("dns");
});
afterAll(async () => {
  await upstream?.stop();
});

function project(extra = "") {
  return tempProject(`metrics:
  enabled: false
dns:
  listen: ["127.0.0.1:0"]
  tcp_max_connections: 3
  forward:
    upstreams: ["127.0.0.1:${upPort}"]
    allow: ["127.0.0.1"]
  zones:
    local.example:
      records: ["www 60 A 203.0.113.5"]
${extra}`);
}

const frame = (id: number, name: string) => packet.streamEncode({ id, flags: packet.RECURSION_DESIRED, questions: [{ name, type: "A" }] });

describe("dns.io: native", () => {
  let server: Running;
  let port: number;
  beforeAll(async () => {
    server = await startSecurely(["dns:serve"], { env: project("  query_log: { enabled: true }\n").env });
    port = server.port("dns");
  });
  afterAll(async () => {
    await server?.stop();
  });

  test("the log says which I/O path serves", () => {
    expect(server.output()).toContain("native I/O thread");
  });

  test("a forwarded name is answered over UDP through the main thread's forwarder", async () => {
    const r = await dig(port, "www.upstream.example");
    expect([r.status, r.answer]).toEqual(["NOERROR", ["www.upstream.example. 120 IN A 198.51.100.7"]]);
  });

  test("pipelined TCP mixing a local and a forwarded name: both answers come back on the connection", async () => {
    const answers = await tcpExchange(port, Buffer.concat([frame(1, "mail.upstream.example"), frame(2, "www.local.example")]), 2);
    expect(answers.map((a) => [a.id, a.answers[0]?.data]).sort()).toEqual([
      [1, "198.51.100.25"],
      [2, "203.0.113.5"],
    ]);
  });

  test("the query log gets lines from the I/O thread (zone answers) and the main thread (forwarded)", async () => {
    await dig(port, "+tcp", "www.local.example");
    await dig(port, "www.upstream.example");
    await eventually(() => /"proto":"tcp","name":"www\.local\.example\.".*"source":"zone"/.test(server.output()));
    await eventually(() => /"name":"www\.upstream\.example\.".*"source":"(forward|cache)"/.test(server.output()));
  });

  test("a datagram larger than the receive slot is dropped and the server keeps answering", async () => {
    const huge = Buffer.concat([packet.encode({ id: 7, questions: [{ name: "www.local.example", type: "A" }] }), Buffer.alloc(6000)]);
    expect(await udpExchange(port, [huge], 300)).toEqual([]);
    expect((await dig(port, "www.local.example")).answer).toEqual(["www.local.example. 60 IN A 203.0.113.5"]);
  });

  test("tcp_max_connections: connections past the cap are closed at once", async () => {
    const closed: boolean[] = [];
    const socks = await Promise.all(
      Array.from({ length: 5 }, (_, i) =>
        Bun.connect({ hostname: "127.0.0.1", port, socket: { data() {}, close: () => void (closed[i] = true) } }),
      ),
    );
    const deadline = Date.now() + 3000;
    while (closed.filter(Boolean).length < 2 && Date.now() < deadline) await Bun.sleep(20);
    expect(closed.filter(Boolean).length).toBe(2);
    for (const s of socks) s.end();
  });
});

describe("IPv6", () => {
  // containers without IPv6 loopback cannot run this one
  const hasV6 = Object.values(networkInterfaces()).some((l) => l?.some((a) => a.address === "::1"));
  test.skipIf(!hasV6)("an [::1] listener answers over UDP and TCP beside an IPv4 one", async () => {
    const p = tempProject(`metrics:\n  enabled: false\ndns:\n  listen: ["[::1]:0"]\n  zones:\n    local.example:\n      records: ["www 60 A 203.0.113.5"]\n`);
    const v6 = await startSecurely(["dns:serve"], { env: p.env });
    try {
      const port = v6.port("dns");
      for (const proto of ["+notcp", "+tcp"]) {
        const out = Bun.spawnSync(["dig", "@::1", "-p", String(port), "+short", "+time=2", "+tries=1", proto, "www.local.example"]).stdout.toString();
        expect(out.trim()).toBe("203.0.113.5");
      }
    } finally {
      await v6.stop();
    }
  });
});

describe("hostile and odd clients", () => {
  test("a TCP client that pipelines without reading is not read further; others are still served", async () => {
    const server = await startSecurely(["dns:serve"], { env: project().env });
    try {
      const port = server.port("dns");
      const q = frame(1, "www.local.example");
      const flood = Buffer.concat(Array.from({ length: 30_000 }, () => q)); // ~1 MB of queries, answers never read
      const sock = await Bun.connect({ hostname: "127.0.0.1", port, socket: { data() {} } });
      sock.pause?.();
      sock.write(flood);
      await Bun.sleep(300);
      expect((await dig(port, "www.local.example")).answer).toEqual(["www.local.example. 60 IN A 203.0.113.5"]);
      sock.end();
    } finally {
      await server.stop();
    }
  });

  test("delegated queries beyond 10 × forward.max_inflight get SERVFAIL from the I/O thread at once", async () => {
    const silent = createSocket("udp4"); // an upstream that never answers
    await new Promise<void>((r) => silent.bind(0, "127.0.0.1", () => r()));
    const p = tempProject(`metrics:\n  enabled: false\ndns:\n  listen: ["127.0.0.1:0"]\n  query_log: { enabled: true }\n  forward:\n    upstreams: ["127.0.0.1:${silent.address().port}"]\n    allow: ["127.0.0.1"]\n    timeout: 2s\n    max_inflight: 1\n`);
    const server = await startSecurely(["dns:serve"], { env: p.env });
    try {
      const queries = Array.from({ length: 40 }, (_, i) => packet.encode({ id: i, flags: packet.RECURSION_DESIRED, questions: [{ name: `n${i}.elsewhere.example`, type: "A" }] }));
      const replies = await udpExchange(server.port("dns"), queries, 1000);
      expect(replies.length).toBeGreaterThanOrEqual(25);
      expect(replies.every((r) => (r[3]! & 0x0f) === 2)).toBe(true); // SERVFAIL
      await eventually(() => server.output().includes('"source":"overload"'));
    } finally {
      await server.stop();
      silent.close();
    }
  });

  test("a listen address given as a name is resolved, not bound to every interface", async () => {
    const p = tempProject(`metrics:\n  enabled: false\ndns:\n  listen: ["localhost:0"]\n  zones:\n    local.example:\n      records: ["www 60 A 203.0.113.5"]\n`);
    const server = await startSecurely(["dns:serve"], { env: p.env });
    try {
      expect(server.output()).toMatch(/dns listening on udp localhost:\d+/);
      expect((await dig(server.port("dns"), "www.local.example")).answer).toEqual(["www.local.example. 60 IN A 203.0.113.5"]);
    } finally {
      await server.stop();
    }
  });
});

describe("bad listen addresses", () => {
  test("a UDP port held by another program fails dns:serve with the address and the errno explained", async () => {
    const holder = createSocket("udp4");
    await new Promise<void>((r) => holder.bind(0, "127.0.0.1", () => r()));
    try {
      const taken = holder.address().port;
      const p = tempProject(`metrics:\n  enabled: false\ndns:\n  listen: ["127.0.0.1:${taken}"]\n`);
      const r = await runSecurely(["dns:serve"], { env: p.env });
      expect(r.code).not.toBe(0);
      expect(r.stderr).toContain(`dns cannot listen on 127.0.0.1:${taken}: bind udp 127.0.0.1:${taken}: EADDRINUSE (address already in use)`);
    } finally {
      holder.close();
    }
  });
});

describe("dns.tcp_nodelay: false (Nagle on, as Knot and Unbound)", () => {
  for (const io of ["native", "eventloop"]) {
    test(`${io}: pipelined answers (a forwarded one among them) and a client waiting for each answer on one connection are all answered`, async () => {
      const server = await startSecurely(["dns:serve"], { env: project(`  io: ${io}\n  tcp_nodelay: false\n`).env });
      try {
        const port = server.port("dns");
        // one write of three queries: the answers go out one write each, the forwarded one pushed
        const answers = await tcpExchange(port, Buffer.concat([frame(1, "www.local.example"), frame(2, "mail.upstream.example"), frame(3, "www.local.example")]), 3);
        expect(answers.map((a) => [a.id, a.answers[0]?.data]).sort()).toEqual([
          [1, "203.0.113.5"],
          [2, "198.51.100.25"],
          [3, "203.0.113.5"],
        ]);
        // a client that waits for each answer before it asks again, on one connection
        let got: Buffer = Buffer.alloc(0);
        const sock = await Bun.connect({ hostname: "127.0.0.1", port, socket: { data: (_s, d) => void (got = Buffer.concat([got, d])) } });
        try {
          for (let id = 10; id < 15; id++) {
            got = Buffer.alloc(0);
            sock.write(frame(id, "www.local.example"));
            await eventually(() => got.length >= 2 && got.length >= 2 + got.readUInt16BE(0), 3000, 5);
            expect(packet.decode(got.subarray(2)).id).toBe(id);
          }
        } finally {
          sock.end();
        }
      } finally {
        await server.stop();
      }
    });
  }
});

describe("dns.io: eventloop", () => {
  test("Bun's sockets on the main thread still serve UDP, TCP and forwarding", async () => {
    const server = await startSecurely(["dns:serve"], { env: project("  io: eventloop\n").env });
    try {
      const port = server.port("dns");
      expect(server.output()).toContain("event-loop I/O");
      expect((await dig(port, "www.local.example")).answer).toEqual(["www.local.example. 60 IN A 203.0.113.5"]);
      expect((await dig(port, "+tcp", "www.upstream.example")).answer).toEqual(["www.upstream.example. 120 IN A 198.51.100.7"]);
    } finally {
      await server.stop();
    }
  });
});
