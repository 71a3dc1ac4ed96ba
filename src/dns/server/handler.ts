/**
 * The request handler: bytes in, bytes out, no sockets — `answer()` is what the UDP and TCP
 * listeners call, and what tests call directly. It is also the one place where outcomes map to
 * RCODEs: FORMERR for malformed queries, NOTIMP for other opcodes, BADVERS for EDNS > 0,
 * REFUSED outside our zones (when not forwarding for this client) and for denied clients,
 * SERVFAIL when every upstream failed.
 */
import { CLASS, FLAG, RCODE, TYPE, rcodeName, typeName } from "../wire/constants.ts";
import { encodeMessage } from "../wire/encode.ts";
import { anyMatch, type Cidr } from "../wire/ip.ts";
import { canonical } from "../wire/names.ts";
import { parseQuery, questionName, type ParsedQuery } from "../wire/query.ts";
import type { Message, Rr } from "../wire/types.ts";
import type { Forwarder } from "../resolver/forwarder.ts";
import type { Catalog } from "../zone/catalog.ts";
import type { Zone } from "../zone/zone.ts";
import type { QueryLog } from "./query-log.ts";
import type { RateLimiter } from "./rrl.ts";
import type { DnsStats, Proto } from "./stats.ts";
import { WireCache } from "./wire-cache.ts";

export interface Client {
  address: string;
  port: number;
  proto: Proto;
}

export interface HandlerOptions {
  catalog: Catalog;
  forwarder?: Forwarder;
  acl: { query: Cidr[]; forward: Cidr[]; axfr: Cidr[] };
  rrl?: RateLimiter;
  /** Largest UDP answer we send and the payload size we advertise in OPT (RFC 6891 §6.2.5). */
  maxUdpPayload: number;
  stats: DnsStats;
  queryLog?: QueryLog;
  /** Entries in the encoded-answer cache (0 disables it). */
  wireCacheSize: number;
  /** Name-server identifier for clients that ask (RFC 5001); undefined = not sent. */
  nsid?: Buffer;
  /**
   * Instead of a forwarder: hand a query that must be forwarded to whoever owns the forwarder
   * (the DNS I/O thread passes it to the main thread, which answers through `answerForwarded`).
   * The query buffer is only valid during the call. Returns false when too many are waiting
   * already: the client gets SERVFAIL at once.
   */
  delegate?: (query: Uint8Array, client: Client) => boolean;
}

export type Answer = Buffer | Buffer[] | undefined;

/** One query in this many (a power of two) has its latency timed for the histogram. */
export const LATENCY_SAMPLE = 8;

/** Records per AXFR message before the size check splits further. */
const AXFR_CHUNK = 500;

export class Handler {
  private catalog: Catalog;
  private wire: WireCache;
  /** Forwarded queries waiting for an upstream (a graceful stop waits for them). */
  inflight = 0;
  private tick = 0;

  constructor(private opts: HandlerOptions) {
    this.catalog = opts.catalog;
    this.wire = new WireCache(opts.wireCacheSize);
  }

  /** Swap in new zones (store change, reload); cached answers of the old ones go. */
  setCatalog(c: Catalog): void {
    this.catalog = c;
    this.wire.clear();
  }

  get zones(): Catalog {
    return this.catalog;
  }

  answer(buf: Uint8Array, client: Client): Answer | Promise<Answer> {
    // latency is timed on one query in LATENCY_SAMPLE (two clock reads cost ~30% of a cached answer)
    const t0 = (this.tick++ & (LATENCY_SAMPLE - 1)) === 0 ? performance.now() : -1;
    const q = parseQuery(buf);
    if (q.kind === "drop") {
      this.opts.stats.drop(buf.length < 12 ? "short" : "response");
      return undefined;
    }
    if (q.kind !== "query") {
      // header only: no question, no OPT, no AA (RFC 8906 §8.1.4)
      const rcode = q.kind === "formerr" ? RCODE.FORMERR : RCODE.NOTIMP;
      const out = Buffer.alloc(12);
      out.writeUInt16BE(q.id, 0);
      out.writeUInt16BE(FLAG.QR | (q.flags & 0x7800) | (q.flags & FLAG.RD) | rcode, 2);
      this.done(t0, 0, rcode, client, q.kind, q.reason);
      return out;
    }
    const proto = client.proto;
    if (this.opts.acl.query.length && !anyMatch(this.opts.acl.query, client.address)) return this.simple(q, buf, RCODE.REFUSED, client, t0, "acl");
    if (this.opts.rrl && proto === "udp") {
      const v = this.opts.rrl.check(client.address);
      if (v !== "ok") {
        this.opts.stats.rrl(v);
        if (v === "drop") return undefined;
        return this.simple(q, buf, RCODE.NOERROR, client, t0, "rrl-slip", true);
      }
    }
    if (q.edns && q.edns.version > 0) return this.simple(q, buf, RCODE.BADVERS, client, t0, "badvers");
    const limit = proto === "tcp" ? 65535 : q.edns ? Math.min(Math.max(q.edns.udpSize, 512), this.opts.maxUdpPayload) : 512;
    // everything besides the question that shapes the answer, in one number
    const variant = limit * 32 + (q.edns?.nsid ? 16 : 0) + (q.edns ? (q.edns.dnssecOk ? 2 : 1) : 0) * 4 + (q.flags & FLAG.RD ? 2 : 0) + (q.flags & FLAG.CD ? 1 : 0);
    const hit = this.wire.get(variant, q.questionHash, buf, q.questionEnd, q.qnameEnd);
    this.opts.stats.wireCache(hit !== undefined);
    if (hit) {
      this.done(t0, q.qtype, hit[3]! & 0x0f, client, "answer-cache", undefined, buf);
      return hit;
    }
    return this.slow(q, buf, client, limit, variant, t0);
  }

  /** A query another thread's handler already checked (ACL, RRL, answer cache) and delegated here. */
  answerForwarded(buf: Uint8Array, client: Client): Answer | Promise<Answer> {
    const t0 = (this.tick++ & (LATENCY_SAMPLE - 1)) === 0 ? performance.now() : -1;
    const q = parseQuery(buf);
    if (q.kind !== "query") return undefined;
    const limit = client.proto === "tcp" ? 65535 : q.edns ? Math.min(Math.max(q.edns.udpSize, 512), this.opts.maxUdpPayload) : 512;
    return this.slow(q, buf, client, limit, -1, t0);
  }

  private slow(q: ParsedQuery, buf: Uint8Array, client: Client, limit: number, variant: number, t0: number): Answer | Promise<Answer> {
    if (q.qclass !== CLASS.IN && q.qclass !== CLASS.ANY) return this.simple(q, buf, RCODE.REFUSED, client, t0, "class");
    if (q.qtype === TYPE.OPT) return this.simple(q, buf, RCODE.FORMERR, client, t0, "qtype OPT");
    const qname = questionName(buf);
    const zone = this.catalog.find(canonical(qname));
    if (q.qtype === TYPE.AXFR || q.qtype === TYPE.IXFR) return this.transfer(q, buf, qname, zone, client, t0, limit);
    if (zone) {
      const r = zone.lookup(qname, q.qtype, client.proto === "tcp");
      const msg = this.response(q, qname, r.rcode, (r.authoritative ? FLAG.AA : 0), r.answers, r.authorities, r.additionals);
      const enc = encodeMessage(msg, limit);
      this.wire.set(variant, q.questionHash, buf, q.questionEnd, enc.bytes);
      this.done(t0, q.qtype, r.rcode, client, "zone", undefined, buf);
      return enc.bytes;
    }
    const fwd = this.opts.forwarder;
    const rd = (q.flags & FLAG.RD) !== 0;
    if ((!fwd && !this.opts.delegate) || !rd || !anyMatch(this.opts.acl.forward, client.address)) return this.simple(q, buf, RCODE.REFUSED, client, t0, "not-authoritative");
    if (!fwd) return this.opts.delegate!(buf, client) ? undefined : this.simple(q, buf, RCODE.SERVFAIL, client, t0, "overload");
    this.inflight++;
    return fwd
      .resolve({ name: qname, type: q.qtype, class: q.qclass }, { dnssecOk: q.edns?.dnssecOk ?? false, cd: (q.flags & FLAG.CD) !== 0 })
      .then((r) => {
        const msg = this.response(q, qname, r.rcode, r.authenticData ? FLAG.AD : 0, r.answers, r.authorities, r.additionals);
        this.done(t0, q.qtype, r.rcode, client, r.from === "cache" ? "cache" : r.from ? "forward" : "upstream-failed", undefined, buf);
        return encodeMessage(msg, limit).bytes;
      })
      .catch(() => this.simple(q, buf, RCODE.SERVFAIL, client, t0, "forward-error"))
      .finally(() => this.inflight--);
  }

  /** AXFR/IXFR (RFC 5936): TCP only, allowed networks only, at a zone apex; IXFR gets the full zone. */
  private transfer(q: ParsedQuery, buf: Uint8Array, qname: string, zone: Zone | undefined, client: Client, t0: number, limit: number): Answer {
    const atApex = zone && zone.origin === canonical(qname);
    if (!zone) return this.simple(q, buf, RCODE.REFUSED, client, t0, "transfer-not-ours");
    if (!atApex) return this.simple(q, buf, RCODE.NOTAUTH, client, t0, "transfer-not-apex");
    if (!anyMatch(this.opts.acl.axfr, client.address)) return this.simple(q, buf, RCODE.REFUSED, client, t0, "transfer-denied");
    if (client.proto === "udp") {
      // IXFR over UDP may be answered with just the SOA (RFC 1995 §2); AXFR never over UDP
      if (q.qtype === TYPE.IXFR) return encodeMessage(this.response(q, qname, RCODE.NOERROR, FLAG.AA, [zone.soa], [], []), limit).bytes;
      return this.simple(q, buf, RCODE.REFUSED, client, t0, "axfr-over-udp");
    }
    const all = zone.transfer();
    const out: Buffer[] = [];
    let chunk = AXFR_CHUNK;
    for (let i = 0; i < all.length; ) {
      const part = all.slice(i, i + chunk);
      const enc = encodeMessage(this.response(q, qname, RCODE.NOERROR, FLAG.AA, part, [], []), 65535);
      if (enc.truncated && chunk > 1) {
        chunk = Math.max(1, chunk >> 1);
        continue;
      }
      out.push(enc.bytes);
      i += part.length;
    }
    this.done(t0, q.qtype, RCODE.NOERROR, client, "transfer", undefined, buf);
    return out;
  }

  private response(q: ParsedQuery, qname: string, rcode: number, extraFlags: number, answers: Rr[], authorities: Rr[], additionals: Rr[]): Message {
    return {
      id: q.id,
      // RD and CD are copied; Z and AD in the query are not (RFC 8906 §8.1.3); RA when we forward
      flags: FLAG.QR | (q.opcode << 11) | (q.flags & (FLAG.RD | FLAG.CD)) | extraFlags | (this.opts.forwarder || this.opts.delegate ? FLAG.RA : 0),
      rcode,
      question: { name: qname, type: q.qtype, class: q.qclass },
      answers,
      authorities,
      additionals,
      edns: q.edns ? { udpSize: this.opts.maxUdpPayload, version: 0, dnssecOk: q.edns.dnssecOk, nsid: q.edns.nsid ? this.opts.nsid : undefined } : undefined,
    };
  }

  /** A response with the question and no records: REFUSED, BADVERS, SERVFAIL, or an RRL slip (TC=1). */
  private simple(q: ParsedQuery, buf: Uint8Array, rcode: number, client: Client, t0: number, source: string, truncated = false): Buffer {
    const msg = this.response(q, questionName(buf), rcode, truncated ? FLAG.TC : 0, [], [], []);
    const bytes = encodeMessage(msg).bytes;
    this.done(t0, q.qtype, rcode, client, source, undefined, buf);
    return bytes;
  }

  private done(t0: number, qtype: number, rcode: number, client: Client, source: string, reason?: string, buf?: Uint8Array): void {
    const seconds = t0 >= 0 ? (performance.now() - t0) / 1000 : -1;
    this.opts.stats.query(qtype, rcode, client.proto, seconds);
    this.opts.queryLog?.log(() => ({
      ts: new Date().toISOString(),
      client: `${client.address}#${client.port}`,
      proto: client.proto,
      name: buf ? questionName(buf) + "." : "",
      type: typeName(qtype),
      rcode: rcodeName(rcode),
      source: reason ? `${source}:${reason}` : source,
      ms: seconds >= 0 ? Math.round(seconds * 1e6) / 1000 : undefined,
    }));
  }
}


