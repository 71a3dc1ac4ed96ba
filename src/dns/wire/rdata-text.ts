/**
 * Rdata in presentation format (RFC 1035 §5.1, RFC 3597 §5) ↔ the data shape dns-packet encodes.
 * Master files, inline YAML records, the store and `dns:record:*` all go through here, so a
 * record is validated the same way wherever it comes from.
 */
import packet from "dns-packet";
import { isIPv4, isIPv6 } from "node:net";
import { packetTypeName, TYPE, typeName } from "./constants.ts";
import { absolute, nameError, resolveName } from "./names.ts";
import { encodeSvcb, formatSvcb } from "./svcb.ts";

export interface Token {
  text: string;
  /** Written in double quotes (so `;`, spaces and an empty string are data). */
  quoted: boolean;
}

/** Split rdata text into tokens, honouring quotes and backslash escapes (one line, no comments). */
export function tokenize(text: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (c === " " || c === "\t") { i++; continue; }
    if (c === '"') {
      let s = "";
      i++;
      while (i < text.length && text[i] !== '"') {
        if (text[i] === "\\" && i + 1 < text.length) { s += text[i]! + text[i + 1]!; i += 2; }
        else s += text[i++];
      }
      if (i >= text.length) throw new Error("unterminated quoted string");
      i++;
      out.push({ text: s, quoted: true });
      continue;
    }
    let s = "";
    while (i < text.length && text[i] !== " " && text[i] !== "\t") {
      if (text[i] === "\\" && i + 1 < text.length) { s += text[i]! + text[i + 1]!; i += 2; }
      else s += text[i++];
    }
    out.push({ text: s, quoted: false });
  }
  return out;
}

/** Decode \X and \DDD escapes of a character-string into bytes. */
export function unescapeBytes(s: string): Buffer {
  const out: number[] = [];
  for (let i = 0; i < s.length; i++) {
    if (s[i] === "\\" && i + 1 < s.length) {
      const ddd = /^\d{3}/.exec(s.slice(i + 1, i + 4));
      if (ddd) { out.push(Number(ddd[0]) & 0xff); i += 3; }
      else out.push(s.charCodeAt(++i) & 0xff);
    } else {
      const b = Buffer.from(s[i]!);
      for (const x of b) out.push(x);
    }
  }
  return Buffer.from(out);
}

/** Quote a character-string for presentation. */
export function quote(b: Buffer | string): string {
  const buf = typeof b === "string" ? Buffer.from(b) : b;
  let s = '"';
  for (const c of buf) {
    if (c === 0x22 || c === 0x5c) s += "\\" + String.fromCharCode(c);
    else if (c < 0x20 || c > 0x7e) s += "\\" + String(c).padStart(3, "0");
    else s += String.fromCharCode(c);
  }
  return s + '"';
}

function int(t: Token | undefined, what: string, max: number): number {
  if (!t) throw new Error(`missing ${what}`);
  if (!/^\d+$/.test(t.text) || Number(t.text) > max) throw new Error(`${what} must be an integer 0–${max}, got "${t.text}"`);
  return Number(t.text);
}

/** A TTL-like number: 3600, 1h, 1d2h, 30m (BIND units). */
export function parseTtl(text: string): number | undefined {
  if (/^\d+$/.test(text)) return Number(text) <= 0x7fffffff ? Number(text) : undefined;
  const re = /(\d+)([smhdw])/gi;
  const mult: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400, w: 604800 };
  let total = 0, seen = "";
  for (const m of text.matchAll(re)) { total += Number(m[1]) * mult[m[2]!.toLowerCase()]!; seen += m[0]; }
  return seen.length === text.length && seen.length > 0 && total <= 0x7fffffff ? total : undefined;
}

function ttlField(t: Token | undefined, what: string): number {
  const v = t ? parseTtl(t.text) : undefined;
  if (v === undefined) throw new Error(`${what} must be a number of seconds (or 1h, 1d…), got "${t?.text ?? ""}"`);
  return v;
}

function dname(t: Token | undefined, origin: string, what: string): string {
  if (!t || t.text === "") throw new Error(`missing ${what}`);
  const n = resolveName(t.text, origin);
  const err = nameError(n);
  if (err) throw new Error(`${what} "${t.text}" ${err}`);
  return n;
}

function hex(tokens: Token[], what: string): Buffer {
  const h = tokens.map((t) => t.text).join("");
  if (!/^([0-9a-fA-F]{2})*$/.test(h)) throw new Error(`${what} must be hexadecimal`);
  return Buffer.from(h, "hex");
}

function exactly(tokens: Token[], n: number, type: number): void {
  if (tokens.length !== n) throw new Error(`${typeName(type)} takes ${n} field${n === 1 ? "" : "s"}, got ${tokens.length}`);
}

/** Parse the rdata tokens of `type` (names relative to `origin`); throws a one-line reason. */
export function parseRdata(type: number, tokens: Token[], origin: string): any {
  if (tokens[0]?.text === "\\#" && !tokens[0].quoted) return parseGeneric(type, tokens);
  switch (type) {
    case TYPE.A:
      exactly(tokens, 1, type);
      if (!isIPv4(tokens[0]!.text)) throw new Error(`"${tokens[0]!.text}" is not an IPv4 address`);
      return tokens[0]!.text;
    case TYPE.AAAA:
      exactly(tokens, 1, type);
      if (!isIPv6(tokens[0]!.text)) throw new Error(`"${tokens[0]!.text}" is not an IPv6 address`);
      return tokens[0]!.text;
    case TYPE.NS: case TYPE.CNAME: case TYPE.PTR: case 39 /* DNAME */:
      exactly(tokens, 1, type);
      return dname(tokens[0], origin, "target");
    case TYPE.MX:
      exactly(tokens, 2, type);
      return { preference: int(tokens[0], "preference", 65535), exchange: dname(tokens[1], origin, "exchange") };
    case TYPE.SOA:
      exactly(tokens, 7, type);
      return {
        mname: dname(tokens[0], origin, "mname"), rname: dname(tokens[1], origin, "rname"),
        serial: int(tokens[2], "serial", 0xffffffff), refresh: ttlField(tokens[3], "refresh"), retry: ttlField(tokens[4], "retry"),
        expire: ttlField(tokens[5], "expire"), minimum: ttlField(tokens[6], "minimum"),
      };
    case TYPE.SRV:
      exactly(tokens, 4, type);
      return { priority: int(tokens[0], "priority", 65535), weight: int(tokens[1], "weight", 65535), port: int(tokens[2], "port", 65535), target: dname(tokens[3], origin, "target") };
    case TYPE.TXT: case 99 /* SPF */: {
      if (tokens.length === 0) throw new Error("TXT needs at least one string");
      const out: Buffer[] = [];
      for (const t of tokens) {
        const b = unescapeBytes(t.text);
        if (t.quoted && b.length > 255) throw new Error("a TXT string is longer than 255 bytes; split it into several quoted strings");
        for (let i = 0; i < Math.max(b.length, 1); i += 255) out.push(b.subarray(i, i + 255));
      }
      return out;
    }
    case TYPE.HINFO:
      exactly(tokens, 2, type);
      return { cpu: tokens[0]!.text, os: tokens[1]!.text };
    case TYPE.CAA: {
      exactly(tokens, 3, type);
      const tag = tokens[1]!.text;
      if (!/^[a-zA-Z0-9]+$/.test(tag)) throw new Error(`CAA tag "${tag}" must be letters and digits`);
      return { flags: int(tokens[0], "flags", 255), tag, value: unescapeBytes(tokens[2]!.text).toString() };
    }
    case TYPE.NAPTR:
      exactly(tokens, 6, type);
      return {
        order: int(tokens[0], "order", 65535), preference: int(tokens[1], "preference", 65535),
        flags: tokens[2]!.text, services: tokens[3]!.text, regexp: tokens[4]!.text, replacement: dname(tokens[5], origin, "replacement"),
      };
    case TYPE.SSHFP: {
      if (tokens.length < 3) throw new Error("SSHFP takes algorithm, fingerprint type and fingerprint");
      const hash = int(tokens[1], "fingerprint type", 255);
      const fp = hex(tokens.slice(2), "fingerprint");
      const want = hash === 1 ? 20 : hash === 2 ? 32 : undefined;
      if (want === undefined) throw new Error("SSHFP fingerprint type must be 1 (SHA-1) or 2 (SHA-256); use \\# form for others");
      if (fp.length !== want) throw new Error(`SSHFP fingerprint type ${hash} needs ${want} bytes, got ${fp.length}`);
      return { algorithm: int(tokens[0], "algorithm", 255), hash, fingerprint: fp.toString("hex").toUpperCase() };
    }
    case TYPE.TLSA:
      if (tokens.length < 4) throw new Error("TLSA takes usage, selector, matching type and certificate data");
      return { usage: int(tokens[0], "usage", 255), selector: int(tokens[1], "selector", 255), matchingType: int(tokens[2], "matching type", 255), certificate: hex(tokens.slice(3), "certificate data") };
    case TYPE.SVCB: case TYPE.HTTPS:
      if (tokens.length < 2) throw new Error(`${typeName(type)} takes a priority, a target and parameters`);
      return encodeSvcb(int(tokens[0], "priority", 65535), tokens[1]!.text === "." ? "" : dname(tokens[1], origin, "target"), tokens.slice(2).map((t) => t.text));
    default:
      throw new Error(`${typeName(type)} has no text form here; write it as \\# LENGTH HEX (RFC 3597)`);
  }
}

/** `\# 4 C0000201`: raw rdata; for a type we know, decode it so it is stored in its normal form. */
function parseGeneric(type: number, tokens: Token[]): any {
  const len = int(tokens[1], "\\# length", 65535);
  const data = hex(tokens.slice(2), "\\# data");
  if (data.length !== len) throw new Error(`\\# says ${len} bytes but has ${data.length}`);
  if (!KNOWN.has(type)) return data;
  const framed = Buffer.alloc(len + 2);
  framed.writeUInt16BE(len);
  data.copy(framed, 2);
  try {
    return packet.record(packetTypeName(type)).decode(framed, 0);
  } catch {
    throw new Error(`\\# data is not valid ${typeName(type)} rdata`);
  }
}

const KNOWN = new Set<number>([TYPE.A, TYPE.AAAA, TYPE.NS, TYPE.CNAME, TYPE.PTR, TYPE.MX, TYPE.SOA, TYPE.SRV, TYPE.TXT, TYPE.HINFO, TYPE.CAA, TYPE.NAPTR, TYPE.SSHFP, TYPE.TLSA]);

/** Types `dns:record:add` and zone files accept in their own text form. */
export const TEXT_TYPES = new Set<number>([...KNOWN, TYPE.SVCB, TYPE.HTTPS, 39, 99]);

/** Rdata → presentation text (absolute names). */
export function formatRdata(type: number, data: any): string {
  switch (type) {
    case TYPE.A: case TYPE.AAAA: return String(data);
    case TYPE.NS: case TYPE.CNAME: case TYPE.PTR: case 39: return absolute(data);
    case TYPE.MX: return `${data.preference} ${absolute(data.exchange)}`;
    case TYPE.SOA: return `${absolute(data.mname)} ${absolute(data.rname)} ${data.serial} ${data.refresh} ${data.retry} ${data.expire} ${data.minimum}`;
    case TYPE.SRV: return `${data.priority} ${data.weight} ${data.port} ${absolute(data.target)}`;
    case TYPE.TXT: case 99: return (Array.isArray(data) ? data : [data]).map((s: Buffer | string) => quote(s)).join(" ");
    case TYPE.HINFO: return `${quote(data.cpu)} ${quote(data.os)}`;
    case TYPE.CAA: return `${data.flags ?? 0} ${data.tag} ${quote(data.value)}`;
    case TYPE.NAPTR: return `${data.order} ${data.preference} ${quote(data.flags)} ${quote(data.services)} ${quote(data.regexp)} ${absolute(data.replacement)}`;
    case TYPE.SSHFP: return `${data.algorithm} ${data.hash} ${data.fingerprint}`;
    case TYPE.TLSA: return `${data.usage} ${data.selector} ${data.matchingType} ${Buffer.from(data.certificate).toString("hex").toUpperCase()}`;
    case TYPE.SVCB: case TYPE.HTTPS: return formatSvcb(data);
  }
  const raw: Buffer = Buffer.isBuffer(data) ? data : Buffer.alloc(0);
  return `\\# ${raw.length}${raw.length ? " " + raw.toString("hex").toUpperCase() : ""}`;
}
