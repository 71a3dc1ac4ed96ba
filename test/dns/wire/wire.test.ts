import { describe, expect, test } from "bun:test";
import packet from "dns-packet";
import { FLAG, TYPE, typeName, typeNumber } from "../../../src/dns/wire/constants.ts";
import { decodeMessage } from "../../../src/dns/wire/decode.ts";
import { encodeMessage } from "../../../src/dns/wire/encode.ts";
import { Cidr, bytesToIp, ipToBytes } from "../../../src/dns/wire/ip.ts";
import { parseQuery, questionName } from "../../../src/dns/wire/query.ts";
import { formatSvcb, encodeSvcb } from "../../../src/dns/wire/svcb.ts";

const query = (name: string, type = "A", extra: any = {}) => packet.encode({ id: 4242, flags: packet.RECURSION_DESIRED, questions: [{ name, type }], ...extra });

describe("parseQuery", () => {
  test("reads id and question, hashes it case-insensitively, keeping the sent case for the name", () => {
    const q = parseQuery(query("WwW.Example.COM", "AAAA"));
    expect(q.kind).toBe("query");
    if (q.kind !== "query") return;
    expect([q.id, q.qtype, q.qclass, q.edns]).toEqual([4242, TYPE.AAAA, 1, undefined]);
    const same = parseQuery(query("www.example.com", "AAAA"));
    const other = parseQuery(query("www.example.org", "AAAA"));
    expect(same.kind === "query" && same.questionHash).toBe(q.questionHash); // case-insensitive
    expect(other.kind === "query" && other.questionHash).not.toBe(q.questionHash);
    expect(questionName(query("WwW.Example.COM"))).toBe("WwW.Example.COM");
  });
  test("reads the OPT record: payload size, version, DO and an NSID request among other options", () => {
    const q = parseQuery(query("a.b", "A", { additionals: [{ type: "OPT", name: ".", udpPayloadSize: 4096, flags: packet.DNSSEC_OK, ednsVersion: 1 }] }));
    expect(q.kind === "query" && q.edns).toEqual({ udpSize: 4096, version: 1, dnssecOk: true, nsid: false });
    const withOptions = parseQuery(query("a.b", "A", { additionals: [{ type: "OPT", name: ".", options: [{ code: 10, data: Buffer.alloc(8) }, { code: 3, data: Buffer.alloc(0) }] }] }));
    expect(withOptions.kind === "query" && withOptions.edns?.nsid).toBe(true);
  });
  test.each([
    ["short", Buffer.alloc(5), "drop"],
    ["a response", packet.encode({ type: "response", id: 1, questions: [{ name: "a", type: "A" }] }), "drop"],
    ["no question", packet.encode({ id: 1, questions: [] }), "formerr"],
    ["two questions", packet.encode({ id: 1, questions: [{ name: "a", type: "A" }, { name: "b", type: "A" }] }), "formerr"],
    ["a cut question", query("example.com").subarray(0, 20), "formerr"],
    ["a label past the end", Buffer.from([0, 1, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 40, 65]), "formerr"],
    ["a compression pointer as qname", Buffer.from([0, 1, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xc0, 12, 0, 1, 0, 1]), "formerr"],
    ["two OPT records", query("a", "A", { additionals: [{ type: "OPT", name: "." }, { type: "OPT", name: "." }] }), "formerr"],
    ["an answer count with no answer", (() => { const b = query("a"); b.writeUInt16BE(3, 6); return b; })(), "formerr"],
    ["opcode 15", (() => { const b = query("a"); b[2] = (b[2]! & 0x87) | (15 << 3); return b; })(), "notimp"],
  ])("%s → %s", (_what, buf, kind) => {
    expect(parseQuery(buf).kind).toBe(kind as any);
  });
});

describe("encodeMessage", () => {
  const answer = (n: number) => ({
    id: 7, flags: FLAG.QR | FLAG.AA, rcode: 0, question: { name: "Big.Example", type: TYPE.TXT, class: 1 },
    answers: Array.from({ length: n }, (_, i) => ({ name: "big.example", type: TYPE.TXT, class: 1, ttl: 60, data: [Buffer.from("x".repeat(100) + i)] })),
    authorities: [], additionals: [], edns: { udpSize: 1232, version: 0, dnssecOk: true },
  });
  test("compresses owner names into pointers to the question (which keeps its case)", () => {
    const { bytes } = encodeMessage(answer(2));
    const plain = packet.encode(packet.decode(bytes));
    expect(bytes.length).toBeLessThan(plain.length);
    const d = packet.decode(bytes);
    expect(d.questions[0].name).toBe("Big.Example");
    expect(d.answers.map((a: any) => a.name)).toEqual(["Big.Example", "Big.Example"]);
    expect(d.additionals[0]).toMatchObject({ type: "OPT", udpPayloadSize: 1232, flag_do: true });
  });
  test("over the limit: header, question and OPT with TC=1", () => {
    const e = encodeMessage(answer(20), 512);
    const d = decodeMessage(e.bytes);
    expect([e.truncated, Boolean(d.flags & FLAG.TC), d.answers.length, d.question?.name, d.edns?.udpSize]).toEqual([true, true, 0, "Big.Example", 1232]);
    expect(encodeMessage(answer(20)).truncated).toBe(false);
  });
  test("extended RCODE bits go into OPT (BADVERS = 16)", () => {
    const e = encodeMessage({ ...answer(0), rcode: 16 });
    const d = decodeMessage(e.bytes);
    expect([d.rcode, e.bytes[3]! & 0xf]).toEqual([16, 0]);
  });
});

describe("SVCB/HTTPS codec (RFC 9460)", () => {
  test("round-trips every key and sorts them", () => {
    const raw = encodeSvcb(1, "svc.example", ["port=8443", "alpn=h2,h3", "ipv4hint=192.0.2.1,192.0.2.2", "no-default-alpn", "mandatory=alpn,port", "ech=AQID", "ipv6hint=2001:db8::1", "key65000=hi"]);
    expect(formatSvcb(raw)).toBe("1 svc.example. mandatory=alpn,port alpn=h2,h3 no-default-alpn port=8443 ipv4hint=192.0.2.1,192.0.2.2 ech=AQID ipv6hint=2001:db8::1 key65000=hi");
  });
  test.each([
    [["port=99999"], 'bad port "99999"'],
    [["bogus=1"], 'unknown SvcParamKey "bogus"'],
    [["port=1", "port=2"], "given twice"],
    [["ipv4hint=::1"], "bad ipv4hint address"],
  ])("rejects %j", (params, msg) => {
    expect(() => encodeSvcb(1, ".", params)).toThrow(msg);
  });
});

describe("types and addresses", () => {
  test("RFC 3597 type names both ways", () => {
    expect([typeNumber("TYPE1234"), typeName(1234), typeNumber("https"), typeName(65), typeNumber("nope")]).toEqual([1234, "TYPE1234", 65, "HTTPS", undefined]);
  });
  test("IPv6 text ↔ bytes, compressed per RFC 5952", () => {
    expect(bytesToIp(ipToBytes("2001:db8:0:0:0:0:0:1")!)).toBe("2001:db8::1");
    expect(bytesToIp(ipToBytes("::ffff:192.0.2.1")!)).toBe("::ffff:c000:201");
  });
  test("CIDR matching, including IPv4-mapped clients", () => {
    const net = Cidr.parse("10.0.0.0/8")!;
    expect([net.matches("10.1.2.3"), net.matches("11.0.0.1"), net.matches("::ffff:10.0.0.1")]).toEqual([true, false, true]);
    expect([Cidr.parse("fc00::/7")!.matches("fd00::1"), Cidr.parse("any")!.matches("1.2.3.4"), Cidr.parse("1.2.3.4/33")]).toEqual([true, true, undefined]);
  });
});
