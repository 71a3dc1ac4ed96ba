/** Decode a whole message (upstream responses, `dns:query` output) into securely's model via dns-packet. */
import packet from "dns-packet";
import { TYPE } from "./constants.ts";
import { canonical } from "./names.ts";
import type { Message, Rr } from "./types.ts";
import types from "dns-packet/types.js";

const CLASSES: Record<string, number> = { IN: 1, CS: 2, CH: 3, HS: 4, ANY: 255 };

function classNumber(c: string | number): number {
  if (typeof c === "number") return c;
  return CLASSES[c] ?? (c.startsWith("UNKNOWN_") ? Number(c.slice(8)) : 1);
}

function typeOf(t: string): number {
  if (t === "UNKNOWN_64") return TYPE.SVCB;
  if (t === "UNKNOWN_65") return TYPE.HTTPS;
  return types.toType(t);
}

function rr(a: any): Rr {
  return { name: a.name === "." ? "" : a.name, type: typeOf(a.type), class: classNumber(a.class), ttl: a.ttl ?? 0, data: a.data };
}

/** Throws on malformed input. OPT is lifted into `edns`, and its extended RCODE bits joined to `rcode`. */
export function decodeMessage(buf: Buffer): Message {
  const p = packet.decode(buf);
  const flagsWord = buf.readUInt16BE(2);
  const opt = (p.additionals as any[]).find((a) => a.type === "OPT");
  const rcode = (flagsWord & 0xf) | ((opt?.extendedRcode ?? 0) << 4);
  const q = p.questions[0];
  return {
    id: p.id,
    flags: flagsWord & ~0xf,
    rcode,
    question: q ? { name: q.name === "." ? "" : q.name, type: typeOf(q.type), class: classNumber(q.class) } : undefined,
    answers: p.answers.map(rr),
    authorities: p.authorities.map(rr),
    additionals: (p.additionals as any[]).filter((a) => a.type !== "OPT").map(rr),
    edns: opt ? { udpSize: opt.udpPayloadSize, version: opt.ednsVersion, dnssecOk: Boolean(opt.flag_do) } : undefined,
  };
}

/** Does `resp` answer `question` (same name, ignoring case, type and class)? Guards against spoofed replies. */
export function answersQuestion(resp: Message, name: string, type: number, klass: number): boolean {
  const q = resp.question;
  return !!q && canonical(q.name) === canonical(name) && q.type === type && q.class === klass;
}
