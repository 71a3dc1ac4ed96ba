/**
 * Parse an incoming query without allocating a full message tree: header checks, the one
 * question, and the OPT record (RFC 1035 §4.1, RFC 6891 §6.1.1). The result says how to answer —
 * drop (too short, or a response), FORMERR, NOTIMP — or gives what a lookup needs.
 */
import { FLAG, OPCODE, TYPE } from "./constants.ts";

export interface ParsedQuery {
  kind: "query";
  id: number;
  /** The header's second word as received. */
  flags: number;
  opcode: number;
  /** Offset just past the question (QNAME, QTYPE, QCLASS). */
  questionEnd: number;
  /** Offset just past QNAME. */
  qnameEnd: number;
  qtype: number;
  qclass: number;
  /** FNV-1a hash of the lower-cased question bytes (QNAME+QTYPE+QCLASS): the answer-cache key part. */
  questionHash: number;
  /** OPT present: the client's payload size, EDNS version, DO bit, and whether it asked for NSID. */
  edns?: { udpSize: number; version: number; dnssecOk: boolean; nsid: boolean };
}

export type QueryParse =
  | ParsedQuery
  /** Do not answer: shorter than a header, or QR=1 (answering responses invites loops). */
  | { kind: "drop" }
  | { kind: "formerr" | "notimp"; id: number; flags: number; reason: string };

export function parseQuery(buf: Uint8Array): QueryParse {
  if (buf.length < 12) return { kind: "drop" };
  const id = (buf[0]! << 8) | buf[1]!;
  const flags = (buf[2]! << 8) | buf[3]!;
  if (flags & FLAG.QR) return { kind: "drop" };
  const opcode = (flags >> 11) & 0xf;
  if (opcode !== OPCODE.QUERY) return { kind: "notimp", id, flags, reason: `opcode ${opcode}` };
  const qd = (buf[4]! << 8) | buf[5]!;
  const an = (buf[6]! << 8) | buf[7]!;
  const ns = (buf[8]! << 8) | buf[9]!;
  const ar = (buf[10]! << 8) | buf[11]!;
  if (qd !== 1) return { kind: "formerr", id, flags, reason: `${qd} questions` };
  // QNAME: plain labels only (a pointer in the first name could only point forward or at itself)
  let off = 12;
  let total = 0;
  for (;;) {
    if (off >= buf.length) return { kind: "formerr", id, flags, reason: "question name runs past the end" };
    const len = buf[off]!;
    if (len === 0) break;
    if (len > 63) return { kind: "formerr", id, flags, reason: "bad label in question name" };
    total += len + 1;
    if (total > 254) return { kind: "formerr", id, flags, reason: "question name longer than 255 octets" };
    off += len + 1;
  }
  const qnameEnd = off + 1;
  if (qnameEnd + 4 > buf.length) return { kind: "formerr", id, flags, reason: "question truncated" };
  const qtype = (buf[qnameEnd]! << 8) | buf[qnameEnd + 1]!;
  const qclass = (buf[qnameEnd + 2]! << 8) | buf[qnameEnd + 3]!;
  const questionEnd = qnameEnd + 4;
  // hashing the bytes instead of building a string key: no allocation on the hot path
  let h = 0x811c9dc5;
  for (let i = 12; i < questionEnd; i++) {
    const c = buf[i]!;
    h = Math.imul(h ^ (c >= 65 && c <= 90 ? c | 0x20 : c), 0x01000193);
  }
  const q: ParsedQuery = { kind: "query", id, flags, opcode, questionEnd, qnameEnd, qtype, qclass, questionHash: h & 0x3fffffff }; // small ints keep Map keys unboxed
  if (an === 0 && ns === 0 && ar === 0) return q;
  // Walk the other sections only to find OPT (and to reject messages that lie about their counts).
  off = questionEnd;
  for (let i = 0; i < an + ns + ar; i++) {
    const nameEnd = skipName(buf, off);
    if (nameEnd < 0 || nameEnd + 10 > buf.length) return { kind: "formerr", id, flags, reason: "record runs past the end" };
    const type = (buf[nameEnd]! << 8) | buf[nameEnd + 1]!;
    const rdlen = (buf[nameEnd + 8]! << 8) | buf[nameEnd + 9]!;
    const end = nameEnd + 10 + rdlen;
    if (end > buf.length) return { kind: "formerr", id, flags, reason: "rdata runs past the end" };
    if (type === TYPE.OPT) {
      if (i < an + ns) return { kind: "formerr", id, flags, reason: "OPT outside the additional section" };
      if (q.edns) return { kind: "formerr", id, flags, reason: "more than one OPT record" };
      if (nameEnd !== off + 1) return { kind: "formerr", id, flags, reason: "OPT owner is not the root" };
      const udpSize = (buf[nameEnd + 2]! << 8) | buf[nameEnd + 3]!;
      // options: only NSID (RFC 5001, code 3) changes the answer; others are ignored, not echoed
      let nsid = false;
      for (let o = nameEnd + 10; o + 4 <= end; o += 4 + ((buf[o + 2]! << 8) | buf[o + 3]!)) {
        if (((buf[o]! << 8) | buf[o + 1]!) === 3) nsid = true;
      }
      q.edns = { udpSize, version: buf[nameEnd + 5]!, dnssecOk: (buf[nameEnd + 6]! & 0x80) !== 0, nsid };
    }
    off = end;
  }
  return q;
}

/** Offset after the name at `off` (labels or a pointer), or -1 when malformed. */
function skipName(buf: Uint8Array, off: number): number {
  for (let guard = 0; guard < 128; guard++) {
    if (off >= buf.length) return -1;
    const len = buf[off]!;
    if (len === 0) return off + 1;
    if ((len & 0xc0) === 0xc0) return off + 2 <= buf.length ? off + 2 : -1;
    if (len > 63) return -1;
    off += len + 1;
  }
  return -1;
}

/** The question name at offset 12 in presentation form, case as sent (non-printables as \DDD). */
export function questionName(buf: Uint8Array): string {
  const labels: string[] = [];
  let off = 12;
  for (;;) {
    const len = buf[off]!;
    if (len === 0) break;
    let label = "";
    for (let i = off + 1; i <= off + len; i++) {
      const c = buf[i]!;
      if (c === 0x2e || c === 0x5c) label += "\\" + String.fromCharCode(c);
      else if (c < 0x21 || c > 0x7e) label += "\\" + String(c).padStart(3, "0");
      else label += String.fromCharCode(c);
    }
    labels.push(label);
    off += len + 1;
  }
  return labels.join(".");
}
