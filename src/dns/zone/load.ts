/**
 * Build the catalog from the three zone sources — master files and inline records in the config,
 * zones in the store, and local-dev domains — merging sources that name the same zone: records
 * are unioned, and the SOA comes from the store when the store has the zone (its serial is the
 * one that moves), else from the file or inline text, else a synthesized one.
 */
import { readFileSync } from "node:fs";
import type { Store } from "../../core/store/store.ts";
import { CLASS, TYPE } from "../wire/constants.ts";
import { absolute, canonical, isSubdomain } from "../wire/names.ts";
import type { Rr } from "../wire/types.ts";
import { Catalog } from "./catalog.ts";
import { localDomainRecords } from "./local-domains.ts";
import { parseMasterFile, ZoneFileError } from "./master-file.ts";
import { ZoneRepository } from "./store-zones.ts";
import type { ZoneSource } from "./types.ts";
import { Zone } from "./zone.ts";

export interface ConfigZone {
  /** Master file path (already resolved against the config folder). */
  file?: string;
  /** Inline master-file lines, relative to the zone. */
  records: string[];
  /** Default TTL for records without one. */
  ttl: number;
}

export interface CatalogInput {
  zones: Record<string, ConfigZone>;
  localDomains: Record<string, string>;
  store?: Store;
  /** A store row that no longer parses: reported, skipped. */
  onBadRecord?: (where: string, reason: string) => void;
}

interface Pending {
  soa?: Rr;
  soaFromStore: boolean;
  records: Rr[];
  sources: ZoneSource[];
}

/** Parse every config zone (throws ZoneFileError naming file:line) — run once at start and reload. */
export function loadConfigZones(zones: Record<string, ConfigZone>): Map<string, Rr[]> {
  const out = new Map<string, Rr[]>();
  for (const [name, z] of Object.entries(zones)) {
    const origin = canonical(name);
    const recs: Rr[] = [];
    if (z.file) {
      let text: string;
      try {
        text = readFileSync(z.file, "utf8");
      } catch (e) {
        throw new ZoneFileError(`dns.zones.${name}.file`, `cannot read ${z.file}: ${(e as Error).message}`);
      }
      recs.push(...parseMasterFile(text, { origin, file: z.file, defaultTtl: z.ttl }));
    }
    if (z.records.length) recs.push(...parseMasterFile(z.records.join("\n"), { origin, label: `dns.zones.${name}.records`, defaultTtl: z.ttl }));
    const where = z.file ?? `dns.zones.${name}`;
    const types = new Map<string, Set<number>>();
    for (const rr of recs) {
      const owner = canonical(rr.name);
      if (!isSubdomain(owner, origin)) throw new ZoneFileError(where, `record ${absolute(rr.name)} is outside the zone ${origin}`);
      let t = types.get(owner);
      if (!t) types.set(owner, (t = new Set()));
      t.add(rr.type);
    }
    // RFC 1034 §3.6.2 / RFC 2181 §10.1: a CNAME owner has no other data
    for (const [owner, t] of types) {
      if (t.has(TYPE.CNAME) && t.size > 1) throw new ZoneFileError(where, `${absolute(owner)} has a CNAME and other records; a CNAME must stand alone (RFC 1034 §3.6.2)`);
    }
    out.set(origin, recs);
  }
  return out;
}

export function buildCatalog(input: CatalogInput, parsedConfig = loadConfigZones(input.zones)): Catalog {
  const pending = new Map<string, Pending>();
  const get = (origin: string) => {
    let p = pending.get(origin);
    if (!p) pending.set(origin, (p = { soaFromStore: false, records: [], sources: [] }));
    return p;
  };
  const addAll = (origin: string, recs: Rr[], source: ZoneSource, fromStore = false) => {
    const p = get(origin);
    if (!p.sources.includes(source)) p.sources.push(source);
    for (const rr of recs) {
      if (rr.type === TYPE.SOA && canonical(rr.name) === origin) {
        if (!p.soa || fromStore) [p.soa, p.soaFromStore] = [rr, fromStore];
        else if (!p.soaFromStore) p.soa = rr;
      } else p.records.push(rr);
    }
  };
  for (const [tld, value] of Object.entries(input.localDomains)) addAll(canonical(tld), localDomainRecords(tld, value), "local");
  for (const [origin, recs] of parsedConfig) addAll(origin, recs, input.zones[origin]?.file ? "file" : "config");
  if (input.store) {
    const repo = new ZoneRepository(input.store);
    for (const z of repo.listZones()) {
      addAll(z.name, repo.load(z, (row, reason) => input.onBadRecord?.(`dns_records id ${row.id} (${row.name} ${row.type})`, reason)), "store", true);
    }
  }
  const zones: Zone[] = [];
  for (const [origin, p] of pending) {
    const soa = p.soa ?? synthesizedSoa(origin);
    zones.push(new Zone(origin, [soa, ...dedupe(p.records)], p.sources));
  }
  return new Catalog(zones);
}

/** A zone given without an SOA (inline records only) gets a conventional one. */
export function synthesizedSoa(origin: string): Rr {
  return {
    name: origin, type: TYPE.SOA, class: CLASS.IN, ttl: 3600,
    data: { mname: `ns1.${origin}`, rname: `hostmaster.${origin}`, serial: 1, refresh: 3600, retry: 600, expire: 1209600, minimum: 300 },
  };
}

function dedupe(records: Rr[]): Rr[] {
  const seen = new Set<string>();
  const out: Rr[] = [];
  for (const rr of records) {
    const k = `${canonical(rr.name)}|${rr.type}|${JSON.stringify(rr.data)}`;
    if (seen.has(k)) continue;
    seen.add(k);
    out.push(rr);
  }
  return out;
}
