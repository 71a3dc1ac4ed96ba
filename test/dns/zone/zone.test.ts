import { describe, expect, test } from "bun:test";
import { RCODE, TYPE } from "../../../src/dns/wire/constants.ts";
import { parseMasterFile } from "../../../src/dns/zone/master-file.ts";
import { Zone } from "../../../src/dns/zone/zone.ts";
import { Catalog } from "../../../src/dns/zone/catalog.ts";

// RFC 4592 §2.2.1, the example zone Hickory's rfc4592_tests.rs also uses.
const RFC4592 = `
$ORIGIN example.
example.                 3600 IN  SOA   ns.example.com. hostmaster.example. 1 3600 600 86400 300
example.                 3600     NS    ns.example.com.
example.                 3600     NS    ns.example.net.
*.example.               3600     TXT   "this is a wildcard"
*.example.               3600     MX    10 host1.example.
sub.*.example.           3600     TXT   "this is not a wildcard"
host1.example.           3600     A     192.0.2.1
_ssh._tcp.host1.example. 3600     SRV   0 0 22 host1.example.
_ssh._tcp.host2.example. 3600     SRV   0 0 22 host2.example.
subdel.example.          3600     NS    ns.example.com.
subdel.example.          3600     NS    ns.example.net.
`;

const zone = () => new Zone("example", parseMasterFile(RFC4592, { origin: "example" }), ["config"]);

describe("Zone.lookup (RFC 4592 §2.2.1 examples)", () => {
  test("host3 MX is synthesized from *.example with the query's owner name", () => {
    const r = zone().lookup("HOST3.example", TYPE.MX);
    expect(r.rcode).toBe(RCODE.NOERROR);
    expect(r.authoritative).toBe(true);
    expect(r.answers.map((a) => [a.name, a.data])).toEqual([["HOST3.example", { preference: 10, exchange: "host1.example" }]]);
    expect(r.additionals.map((a) => a.data)).toEqual(["192.0.2.1"]);
  });
  test("host3 A is NODATA: the wildcard exists but has no A", () => {
    const r = zone().lookup("host3.example", TYPE.A);
    expect([r.rcode, r.answers.length, r.authorities[0]!.type, r.authorities[0]!.ttl]).toEqual([RCODE.NOERROR, 0, TYPE.SOA, 300]);
  });
  test("foo.bar TXT is synthesized (closest encloser is the apex)", () => {
    expect(zone().lookup("foo.bar.example", TYPE.TXT).answers.map((a) => a.data[0].toString())).toEqual(["this is a wildcard"]);
  });
  test("no synthesis for names that exist: host1 MX is NODATA", () => {
    const r = zone().lookup("host1.example", TYPE.MX);
    expect([r.rcode, r.answers.length]).toEqual([RCODE.NOERROR, 0]);
  });
  test("sub.*.example MX is NODATA, not a wildcard match", () => {
    const r = zone().lookup("sub.*.example", TYPE.MX);
    expect([r.rcode, r.answers.length]).toEqual([RCODE.NOERROR, 0]);
  });
  test("_telnet._tcp.host1 is NXDOMAIN: its closest encloser host1 has no wildcard", () => {
    const r = zone().lookup("_telnet._tcp.host1.example", TYPE.SRV);
    expect(r.rcode).toBe(RCODE.NXDOMAIN);
    expect(r.authorities.map((a) => a.type)).toEqual([TYPE.SOA]);
  });
  test("_tcp.host1 is an empty non-terminal: NODATA, not NXDOMAIN and not synthesized", () => {
    const r = zone().lookup("_tcp.host1.example", TYPE.A);
    expect([r.rcode, r.answers.length]).toEqual([RCODE.NOERROR, 0]);
  });
  test("ghost.*.example is NXDOMAIN (closest encloser *.example has no wildcard child)", () => {
    expect(zone().lookup("ghost.*.example", TYPE.MX).rcode).toBe(RCODE.NXDOMAIN);
  });
  test("names below subdel get a referral (AA=0, NS in authority), never the wildcard", () => {
    const r = zone().lookup("host.subdel.example", TYPE.A);
    expect(r.authoritative).toBe(false);
    expect(r.answers).toEqual([]);
    expect(r.authorities.map((a) => a.data)).toEqual(["ns.example.com", "ns.example.net"]);
  });
});

describe("Zone.lookup", () => {
  const z = new Zone(
    "example.com",
    parseMasterFile(
      `@ SOA ns1 host 7 1h 10m 1w 60
@ NS ns1
ns1 A 192.0.2.53
a CNAME b
b CNAME c
c A 192.0.2.3
loop1 CNAME loop2
loop2 CNAME loop1
out CNAME www.other.org.
dangling CNAME nothing
deleg NS ns.deleg
ns.deleg A 192.0.2.9
*.emptywild.x TXT y
sub.*.y TXT z
`,
      { origin: "example.com", defaultTtl: 600 },
    ),
    ["config"],
  );
  test("follows a CNAME chain inside the zone into the answer", () => {
    const r = z.lookup("A.example.com", TYPE.A);
    expect(r.answers.map((a) => [a.name, a.type])).toEqual([["A.example.com", TYPE.CNAME], ["b.example.com", TYPE.CNAME], ["c.example.com", TYPE.A]]);
  });
  test("a CNAME loop stops without repeating", () => {
    expect(z.lookup("loop1.example.com", TYPE.A).answers.length).toBe(2);
  });
  test("a CNAME leaving the zone is answered alone for the resolver to follow", () => {
    expect(z.lookup("out.example.com", TYPE.A).answers.map((a) => a.data)).toEqual(["www.other.org"]);
  });
  test("a CNAME to a missing in-zone name gives NXDOMAIN with the CNAME (RFC 6604)", () => {
    const r = z.lookup("dangling.example.com", TYPE.A);
    expect([r.rcode, r.answers.length, r.authorities[0]!.type]).toEqual([RCODE.NXDOMAIN, 1, TYPE.SOA]);
  });
  test("CNAME queries return the CNAME itself", () => {
    expect(z.lookup("a.example.com", TYPE.CNAME).answers.length).toBe(1);
  });
  test("negative TTL is min(SOA TTL, MINIMUM) (RFC 2308 §3)", () => {
    expect(z.lookup("nope.example.com", TYPE.A).authorities[0]!.ttl).toBe(60);
  });
  test("an empty non-terminal wildcard gives NODATA, not NXDOMAIN (Hickory #1275)", () => {
    const r = z.lookup("foo.y.example.com", TYPE.A);
    expect([r.rcode, r.answers.length]).toEqual([RCODE.NOERROR, 0]);
    expect(z.lookup("foo.emptywild.x.example.com", TYPE.TXT).answers.length).toBe(1);
  });
  test("ANY is one RRset over UDP and every RRset over TCP (RFC 8482)", () => {
    expect(z.lookup("example.com", TYPE.ANY).answers.length).toBe(1);
    expect(z.lookup("example.com", TYPE.ANY, true).answers.map((a) => a.type).sort()).toEqual([TYPE.NS, TYPE.SOA]);
  });
  test("ANY at a wildcard returns the synthesized data (Hickory #2168)", () => {
    expect(z.lookup("q.emptywild.x.example.com", TYPE.ANY).answers.map((a) => a.type)).toEqual([TYPE.TXT]);
  });
  test("transfer starts and ends with the SOA", () => {
    const t = z.transfer();
    expect([t[0]!.type, t.at(-1)!.type, t.length]).toEqual([TYPE.SOA, TYPE.SOA, z.recordCount + 1]);
  });
  test("the catalog finds the most specific zone", () => {
    const sub = new Zone("deleg.example.com", parseMasterFile("@ SOA a b 1 1 1 1 1\n", { origin: "deleg.example.com" }), ["store"]);
    const c = new Catalog([z, sub]);
    expect(c.find("x.deleg.example.com")?.origin).toBe("deleg.example.com");
    expect(c.find("www.example.com")?.origin).toBe("example.com");
    expect(c.find("example.org")).toBeUndefined();
  });
});
