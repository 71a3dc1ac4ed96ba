import { describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { TYPE } from "../../../src/dns/wire/constants.ts";
import { formatZone, parseMasterFile } from "../../../src/dns/zone/master-file.ts";
import { tempDir } from "../../harness.ts";

describe("parseMasterFile", () => {
  test("reads $ORIGIN, $TTL, @, relative names, inherited owners, parentheses and comments", () => {
    const rrs = parseMasterFile(
      `$TTL 1h ; default
$ORIGIN example.com.
@   IN  SOA ns1 hostmaster ( 2024010101 ; serial
            3600 600 1w 300 )
    IN  NS  ns1
ns1     A   192.0.2.53
www 300 IN A 192.0.2.1
        IN 60 AAAA 2001:db8::1
txt     TXT "a ; not a comment" "b\\"c"
$ORIGIN sub.example.com.
host    A 192.0.2.7
`,
      { origin: "ignored" },
    );
    expect(rrs.map((r) => [r.name, r.type, r.ttl])).toEqual([
      ["example.com", TYPE.SOA, 3600],
      ["example.com", TYPE.NS, 3600],
      ["ns1.example.com", TYPE.A, 3600],
      ["www.example.com", TYPE.A, 300],
      ["www.example.com", TYPE.AAAA, 60],
      ["txt.example.com", TYPE.TXT, 3600],
      ["host.sub.example.com", TYPE.A, 3600],
    ]);
    expect(rrs[0]!.data).toEqual({ mname: "ns1.example.com", rname: "hostmaster.example.com", serial: 2024010101, refresh: 3600, retry: 600, expire: 604800, minimum: 300 });
    expect(rrs[5]!.data.map((b: Buffer) => b.toString())).toEqual(["a ; not a comment", 'b"c']);
  });

  test("reads $INCLUDE relative to the including file, with its own origin", () => {
    const dir = tempDir();
    writeFileSync(join(dir, "hosts.inc"), "db A 192.0.2.10\n");
    writeFileSync(join(dir, "main.zone"), "@ SOA ns h 1 1 1 1 1\n$INCLUDE hosts.inc internal\n");
    const rrs = parseMasterFile(require("node:fs").readFileSync(join(dir, "main.zone"), "utf8"), { origin: "example.com", file: join(dir, "main.zone") });
    expect(rrs.map((r) => r.name)).toEqual(["example.com", "db.internal.example.com"]);
  });

  test("reads every supported type and RFC 3597 unknown types, and formats them back", () => {
    const text = `$ORIGIN example.com.
@ 300 IN MX 10 mail
@ 300 IN CAA 0 issue "letsencrypt.org"
_sip._tcp 300 IN SRV 10 60 5060 sip
@ 300 IN NAPTR 100 10 "S" "SIP+D2U" "" _sip._udp
host 300 IN SSHFP 1 1 0123456789ABCDEF0123456789ABCDEF01234567
_443._tcp 300 IN TLSA 3 1 1 ABCDEF00
1.2 300 IN PTR host
@ 300 IN HINFO "x86" "Linux"
svc 300 IN HTTPS 1 . alpn=h2,h3 port=8443 ipv6hint=2001:db8::1
alias 300 IN SVCB 0 svc.example.com.
raw 300 IN TYPE65000 \\# 3 ABCDEF
a2 300 IN A \\# 4 C0000201
`;
    const rrs = parseMasterFile(text, { origin: "example.com" });
    const again = parseMasterFile(formatZone("example.com", rrs), { origin: "example.com" });
    expect(again.map((r) => [r.name, r.type, r.ttl])).toEqual(rrs.map((r) => [r.name, r.type, r.ttl]));
    expect(JSON.stringify(again.map((r) => r.data))).toBe(JSON.stringify(rrs.map((r) => r.data)));
    expect(rrs.at(-1)!.data).toBe("192.0.2.1");
    expect(formatZone("example.com", rrs)).toContain('svc.example.com.\t300\tIN\tHTTPS\t1 . alpn=h2,h3 port=8443 ipv6hint=2001:db8::1');
    expect(formatZone("example.com", rrs)).toContain("TYPE65000\t\\# 3 ABCDEF");
  });

  test.each([
    ["www A 999.1.1.1", 'zone.db:1: A www.example.com: "999.1.1.1" is not an IPv4 address'],
    ["@ SOA a b 1 2 3\n", "zone.db:1: SOA example.com: SOA takes 7 fields, got 5"],
    ["\n\nwww BOGUS 1", 'zone.db:3: unknown record type "BOGUS"'],
    ["www MX 10", "zone.db:1: MX www.example.com: MX takes 2 fields, got 1"],
    ["www ( A 192.0.2.1", "zone.db:1: '(' is never closed"],
    ['www TXT "open', "zone.db:1: unterminated quoted string"],
    ["$GENERATE 1-10 h$ A 1.2.3.$", "zone.db:1: unsupported directive $GENERATE"],
    ["www CH A 192.0.2.1", "zone.db:1: class 3 is not served (only IN)"],
    ["x TYPE300 abc", "zone.db:1: TYPE300 x.example.com: TYPE300 has no text form here; write it as \\# LENGTH HEX (RFC 3597)"],
    [`${"a".repeat(64)} A 192.0.2.1`, "has a label longer than 63 characters"],
  ])("rejects %j naming file and line", (text, message) => {
    expect(() => parseMasterFile(text, { origin: "example.com", file: "zone.db" })).toThrow(message);
  });
});
