/**
 * One authoritative zone in memory and its lookup algorithm: RFC 1034 §4.3.2 (delegations,
 * CNAME chains, NXDOMAIN vs NODATA), RFC 2308 §3 (SOA in authority, negative TTL =
 * min(SOA TTL, MINIMUM)), RFC 4592 (wildcards: closest encloser, no synthesis for names that
 * exist, empty non-terminals), RFC 8482 (minimal ANY over UDP).
 */
import { RCODE, TYPE } from "../wire/constants.ts";
import { canonical, isSubdomain, parent } from "../wire/names.ts";
import type { Rr } from "../wire/types.ts";
import type { LookupResult, ZoneSource } from "./types.ts";

type Node = Map<number, Rr[]>;

/** Longest CNAME chain followed inside the zone (loops stop earlier). */
const MAX_CHAIN = 8;

/** RRset preference for a minimal ANY answer (RFC 8482 §4.1: one RRset is enough). */
const ANY_PREFERENCE = [TYPE.CNAME, TYPE.A, TYPE.AAAA, TYPE.MX, TYPE.TXT, TYPE.NS, TYPE.SOA];

export class Zone {
  /** Canonical apex ("example.com"). */
  readonly origin: string;
  readonly soa: Rr;
  readonly sources: ZoneSource[];
  private nodes = new Map<string, Node>();
  /** Every name that exists: owners plus their ancestors up to the apex (empty non-terminals). */
  private names = new Set<string>();
  /** Owners of NS records below the apex: delegation points. */
  private cuts = new Set<string>();
  private count = 0;

  constructor(origin: string, records: Rr[], sources: ZoneSource[]) {
    this.origin = canonical(origin);
    this.sources = sources;
    let soa: Rr | undefined;
    for (const rr of records) {
      const key = canonical(rr.name);
      if (rr.type === TYPE.SOA) {
        soa = rr;
        continue;
      }
      let node = this.nodes.get(key);
      if (!node) this.nodes.set(key, (node = new Map()));
      let set = node.get(rr.type);
      if (!set) node.set(rr.type, (set = []));
      set.push(rr);
      this.count++;
      if (rr.type === TYPE.NS && key !== this.origin) this.cuts.add(key);
      for (let n: string | undefined = key; n !== undefined && isSubdomain(n, this.origin); n = parent(n)) {
        if (this.names.has(n)) break;
        this.names.add(n);
      }
    }
    if (!soa) throw new Error(`zone ${origin} has no SOA`);
    this.soa = soa;
    this.names.add(this.origin);
    let apex = this.nodes.get(this.origin);
    if (!apex) this.nodes.set(this.origin, (apex = new Map()));
    apex.set(TYPE.SOA, [soa]);
  }

  get serial(): number {
    return this.soa.data.serial;
  }

  get recordCount(): number {
    return this.count + 1;
  }

  /** The SOA for a negative answer, its TTL capped by MINIMUM (RFC 2308 §3). */
  negativeSoa(): Rr {
    return { ...this.soa, ttl: Math.min(this.soa.ttl, this.soa.data.minimum) };
  }

  /** Answer `qname` (as the client wrote it) for `qtype`. `fullAny`: list every RRset (TCP). */
  lookup(qname: string, qtype: number, fullAny = false): LookupResult {
    const res: LookupResult = { rcode: RCODE.NOERROR, authoritative: true, answers: [], authorities: [], additionals: [] };
    let name = qname;
    let key = canonical(qname);
    const seen = new Set<string>();
    for (let step = 0; step <= MAX_CHAIN; step++) {
      seen.add(key);
      const cut = this.findCut(key);
      if (cut !== undefined) {
        // a CNAME into delegated space: the resolver follows it; we stop with what we have
        if (step === 0) this.referral(cut, res);
        return res;
      }
      let node = this.nodes.get(key);
      if (!node) {
        if (this.names.has(key)) return this.noData(res); // empty non-terminal
        const wildcard = this.wildcardFor(key);
        if (wildcard === undefined) {
          res.rcode = RCODE.NXDOMAIN;
          res.authorities.push(this.negativeSoa());
          return res;
        }
        node = this.nodes.get(wildcard);
        if (!node) return this.noData(res); // the wildcard itself is an empty non-terminal
      }
      if (qtype === TYPE.ANY) {
        const sets = [...node.values()];
        const pick = fullAny ? sets : [ANY_PREFERENCE.map((t) => node!.get(t)).find(Boolean) ?? sets[0]!];
        for (const set of pick) this.emit(set, name, res.answers);
        return res;
      }
      const cname = node.get(TYPE.CNAME);
      if (cname && qtype !== TYPE.CNAME) {
        this.emit(cname, name, res.answers);
        const target: string = cname[0]!.data;
        const tkey = canonical(target);
        if (!isSubdomain(tkey, this.origin) || seen.has(tkey)) return res;
        name = target;
        key = tkey;
        continue;
      }
      const set = node.get(qtype);
      if (!set) return this.noData(res);
      this.emit(set, name, res.answers);
      this.addAdditional(set, res);
      return res;
    }
    return res;
  }

  /** Every record, SOA first and last, as AXFR sends them (RFC 5936 §2.2). */
  transfer(): Rr[] {
    const out: Rr[] = [this.soa];
    for (const node of this.nodes.values()) for (const [type, set] of node) if (type !== TYPE.SOA) out.push(...set);
    out.push(this.soa);
    return out;
  }

  /** Every record except the SOA, for export and listing. */
  records(): Rr[] {
    return this.transfer().slice(1, -1);
  }

  private noData(res: LookupResult): LookupResult {
    res.authorities.push(this.negativeSoa());
    return res;
  }

  private emit(set: Rr[], owner: string, into: Rr[]): void {
    for (const rr of set) into.push(rr.name === owner ? rr : { ...rr, name: owner });
  }

  /** The topmost delegation point at or above `key` (below the apex), if any. */
  private findCut(key: string): string | undefined {
    if (this.cuts.size === 0) return undefined;
    let found: string | undefined;
    for (let n: string | undefined = key; n !== undefined && n !== this.origin; n = parent(n)) if (this.cuts.has(n)) found = n;
    return found;
  }

  /** RFC 4592 §3.3.1: the source of synthesis "*.<closest encloser>", when it exists. */
  private wildcardFor(key: string): string | undefined {
    let ce: string | undefined = parent(key);
    while (ce !== undefined && !this.names.has(ce)) ce = parent(ce);
    if (ce === undefined) return undefined;
    const w = ce === "" ? "*" : `*.${ce}`;
    return this.names.has(w) ? w : undefined;
  }

  private referral(cut: string, res: LookupResult): void {
    res.authoritative = false;
    const ns = this.nodes.get(cut)!.get(TYPE.NS)!;
    res.authorities.push(...ns);
    for (const rr of ns) this.addAddresses(rr.data, res.additionals);
  }

  /** A/AAAA for MX, SRV and NS targets this zone holds (RFC 1035 §3.3.9, RFC 2782). */
  private addAdditional(set: Rr[], res: LookupResult): void {
    for (const rr of set) {
      const target = rr.type === TYPE.MX ? rr.data.exchange : rr.type === TYPE.SRV ? rr.data.target : rr.type === TYPE.NS ? rr.data : undefined;
      if (target) this.addAddresses(target, res.additionals);
    }
  }

  private addAddresses(target: string, into: Rr[]): void {
    const node = this.nodes.get(canonical(target));
    if (!node) return;
    for (const t of [TYPE.A, TYPE.AAAA]) {
      const set = node.get(t);
      if (set) for (const rr of set) if (!into.includes(rr)) into.push(rr);
    }
  }
}
