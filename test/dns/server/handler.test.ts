import { describe, expect, test } from "bun:test";
import packet from "dns-packet";
import { metrics } from "../../../src/core/metrics/registry.ts";
import { Handler, type HandlerOptions } from "../../../src/dns/server/handler.ts";
import { RateLimiter } from "../../../src/dns/server/rrl.ts";
import { DnsStats } from "../../../src/dns/server/stats.ts";
import { Cidr } from "../../../src/dns/wire/ip.ts";
import { Catalog } from "../../../src/dns/zone/catalog.ts";
import { parseMasterFile } from "../../../src/dns/zone/master-file.ts";
import { Zone } from "../../../src/dns/zone/zone.ts";

const zone = () => new Zone("example.com", parseMasterFile("@ SOA ns1 h 5 1 1 1 30\nwww A 192.0.2.1\n", { origin: "example.com" }), ["config"]);
const udp = { address: "192.0.2.100", port: 5000, proto: "udp" as const };
const tcp = { ...udp, proto: "tcp" as const };

function handler(extra: Partial<HandlerOptions> = {}) {
  return new Handler({ catalog: new Catalog([zone()]), acl: { query: [], forward: [], axfr: [] }, maxUdpPayload: 1232, stats: new DnsStats(), wireCacheSize: 100, ...extra });
}
const q = (name: string, id = 1, type = "A") => packet.encode({ id, flags: packet.RECURSION_DESIRED, questions: [{ name, type }] });
const ask = (h: Handler, buf: Buffer, client = udp) => packet.decode(h.answer(buf, client) as Buffer);

describe("Handler.answer", () => {
  test("a cached answer carries the new query's ID and exact QNAME case", () => {
    const h = handler();
    expect(ask(h, q("www.example.com", 1)).answers[0].data).toBe("192.0.2.1");
    const second = ask(h, q("WWW.eXample.COM", 77));
    expect([second.id, second.questions[0].name, second.answers[0].name]).toEqual([77, "WWW.eXample.COM", "WWW.eXample.COM"]);
  });
  test("a zone change clears cached answers", () => {
    const h = handler();
    ask(h, q("www.example.com"));
    h.setCatalog(new Catalog([new Zone("example.com", parseMasterFile("@ SOA ns1 h 6 1 1 1 30\nwww A 192.0.2.9\n", { origin: "example.com" }), ["store"])]));
    expect(ask(h, q("www.example.com")).answers[0].data).toBe("192.0.2.9");
  });
  test("clients outside allow_query are REFUSED", () => {
    const h = handler({ acl: { query: [Cidr.parse("10.0.0.0/8")!], forward: [], axfr: [] } });
    expect(ask(h, q("www.example.com")).rcode).toBe("REFUSED");
    expect(ask(h, q("www.example.com"), { ...udp, address: "10.1.1.1" }).rcode).toBe("NOERROR");
  });
  test("class CH and qtype OPT are not served", () => {
    const h = handler();
    expect(ask(h, packet.encode({ id: 1, questions: [{ name: "version.bind", type: "TXT", class: "CH" }] })).rcode).toBe("REFUSED");
    expect(ask(h, q("www.example.com", 1, "OPT")).rcode).toBe("FORMERR");
  });
  test("Z and AD bits in the query are not echoed; CD is (RFC 8906 §8.1.3)", () => {
    const buf = q("www.example.com");
    buf.writeUInt16BE(0x0100 | 0x0040 | 0x0020 | 0x0010, 2);
    const flags = (handler().answer(buf, udp) as Buffer).readUInt16BE(2);
    expect([flags & 0x40, flags & 0x20, flags & 0x10, flags & 0x100]).toEqual([0, 0, 0x10, 0x100]);
  });
  test("response-rate limiting drops, and slips every Nth as TC=1", () => {
    let now = 1000;
    const h = handler({ rrl: new RateLimiter({ responsesPerSecond: 5, window: 1, slip: 2 }, () => now) });
    const results = Array.from({ length: 12 }, (_, i) => h.answer(q("www.example.com", i), udp) as Buffer | undefined);
    expect(results.slice(0, 5).every((r) => r && packet.decode(r).answers.length === 1)).toBe(true);
    const limited = results.slice(5);
    expect(limited.filter((r) => r === undefined).length).toBe(4);
    expect(limited.filter((r) => r && packet.decode(r).flag_tc).length).toBe(3);
    expect(h.answer(q("www.example.com"), tcp)).toBeDefined(); // TCP is never limited
    now += 1000;
    expect(h.answer(q("www.example.com"), { ...udp, address: "192.0.2.200" })).toBeDefined(); // same /24, refilled
  });
  test("queries are counted by type, rcode and transport in the metrics registry", () => {
    const stats = new DnsStats();
    const h = handler({ stats });
    ask(h, q("www.example.com"));
    ask(h, q("nope.example.com"));
    ask(h, q("www.example.com"), tcp);
    stats.flush();
    const text = metrics.render();
    expect(text).toMatch(/dns_queries_total\{proto="udp",qtype="A",rcode="NXDOMAIN"\} [1-9]/);
    expect(text).toMatch(/dns_queries_total\{proto="tcp",qtype="A",rcode="NOERROR"\} [1-9]/);
    expect(text).toMatch(/dns_query_duration_seconds_count [1-9]/);
  });
});
