/**
 * Message encoder with name compression (RFC 1035 §4.1.4). dns-packet writes every name in full;
 * compressing owner names against the question keeps answers small, so fewer need TC, and makes
 * answer owners inherit the case of the question as the client sent it (0x20 clients check it).
 * Rdata is written by dns-packet's per-type codecs; names inside rdata are not compressed (allowed
 * for every type, required for types newer than RFC 1035).
 */
import packet from "dns-packet";
import { packetTypeName, TYPE, FLAG } from "./constants.ts";
import type { Message, Rr } from "./types.ts";

/** Largest DNS message (two-byte TCP length prefix). */
export const MAX_MESSAGE = 65535;

// One scratch buffer: a name (≤255) + fixed fields + rdata (≤65535) always fits past MAX_MESSAGE.
const scratch = Buffer.alloc(MAX_MESSAGE * 2 + 1024);

const codecs = new Map<number, any>();
function codec(type: number): any {
  let c = codecs.get(type);
  if (!c) codecs.set(type, (c = packet.record(packetTypeName(type))));
  return c;
}

class Writer {
  offset = 0;
  private pointers = new Map<string, number>();

  name(name: string): void {
    const buf = scratch;
    if (name === "" || name === ".") {
      buf[this.offset++] = 0;
      return;
    }
    const labels = name.split(".");
    for (let i = 0; i < labels.length; i++) {
      const suffix = i === 0 ? name.toLowerCase() : labels.slice(i).join(".").toLowerCase();
      const ptr = this.pointers.get(suffix);
      if (ptr !== undefined) {
        buf.writeUInt16BE(0xc000 | ptr, this.offset);
        this.offset += 2;
        return;
      }
      if (this.offset < 0x3fff) this.pointers.set(suffix, this.offset);
      const len = writeLabel(labels[i]!, buf, this.offset + 1);
      buf[this.offset] = len;
      this.offset += len + 1;
    }
    buf[this.offset++] = 0;
  }

  rr(rr: Rr): void {
    this.name(rr.name);
    scratch.writeUInt16BE(rr.type, this.offset);
    scratch.writeUInt16BE(rr.class, this.offset + 2);
    scratch.writeUInt32BE(rr.ttl >>> 0, this.offset + 4);
    this.offset += 8;
    if (Buffer.isBuffer(rr.data) && rr.type !== TYPE.TXT) {
      scratch.writeUInt16BE(rr.data.length, this.offset);
      rr.data.copy(scratch, this.offset + 2);
      this.offset += 2 + rr.data.length;
      return;
    }
    const c = codec(rr.type);
    c.encode(rr.data, scratch, this.offset);
    this.offset += c.encode.bytes;
  }
}

/** Write one label, decoding the presentation escapes \. \\ and \DDD; returns its length. */
function writeLabel(label: string, buf: Buffer, at: number): number {
  if (!label.includes("\\")) return buf.write(label, at, "latin1");
  let n = 0;
  for (let i = 0; i < label.length; i++) {
    let c = label.charCodeAt(i);
    if (c === 92 && i + 1 < label.length) {
      const ddd = /^\d{3}/.exec(label.slice(i + 1));
      if (ddd) {
        c = Number(ddd[0]) & 0xff;
        i += 3;
      } else c = label.charCodeAt(++i);
    }
    buf[at + n++] = c;
  }
  return n;
}

export interface Encoded {
  bytes: Buffer;
  /** True when the full message exceeded `limit` and was cut to header, question and OPT with TC=1. */
  truncated: boolean;
}

/** Encode `msg`; when it does not fit in `limit` bytes, return the TC=1 form instead (RFC 2181 §9). */
export function encodeMessage(msg: Message, limit = MAX_MESSAGE): Encoded {
  const full = write(msg, false);
  if (full <= limit) return { bytes: Buffer.from(scratch.subarray(0, full)), truncated: false };
  const cut = write(msg, true);
  return { bytes: Buffer.from(scratch.subarray(0, cut)), truncated: true };
}

function write(msg: Message, truncate: boolean): number {
  const w = new Writer();
  const answers = truncate ? [] : msg.answers;
  const authorities = truncate ? [] : msg.authorities;
  const additionals = truncate ? [] : msg.additionals;
  scratch.writeUInt16BE(msg.id & 0xffff, 0);
  scratch.writeUInt16BE(((msg.flags & ~0x000f) | (msg.rcode & 0x0f) | (truncate ? FLAG.TC : 0)) & 0xffff, 2);
  scratch.writeUInt16BE(msg.question ? 1 : 0, 4);
  scratch.writeUInt16BE(answers.length, 6);
  scratch.writeUInt16BE(authorities.length, 8);
  scratch.writeUInt16BE(additionals.length + (msg.edns ? 1 : 0), 10);
  w.offset = 12;
  if (msg.question) {
    w.name(msg.question.name);
    scratch.writeUInt16BE(msg.question.type, w.offset);
    scratch.writeUInt16BE(msg.question.class, w.offset + 2);
    w.offset += 4;
  }
  for (const rr of answers) w.rr(rr);
  for (const rr of authorities) w.rr(rr);
  for (const rr of additionals) w.rr(rr);
  if (msg.edns) {
    scratch[w.offset] = 0; // root owner
    scratch.writeUInt16BE(TYPE.OPT, w.offset + 1);
    scratch.writeUInt16BE(msg.edns.udpSize, w.offset + 3);
    scratch[w.offset + 5] = (msg.rcode >> 4) & 0xff;
    scratch[w.offset + 6] = msg.edns.version;
    scratch.writeUInt16BE(msg.edns.dnssecOk ? 0x8000 : 0, w.offset + 7);
    const nsid = msg.edns.nsid;
    scratch.writeUInt16BE(nsid ? nsid.length + 4 : 0, w.offset + 9);
    w.offset += 11;
    if (nsid) {
      scratch.writeUInt16BE(3, w.offset);
      scratch.writeUInt16BE(nsid.length, w.offset + 2);
      nsid.copy(scratch, w.offset + 4);
      w.offset += 4 + nsid.length;
    }
  }
  return w.offset;
}
