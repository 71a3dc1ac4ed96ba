/**
 * Zones and records in the store (tables dns_zones, dns_records). Every change runs in one
 * transaction that also bumps the zone's SOA serial and the "dns" change feed, so a running
 * `dns:serve` reloads within its poll interval and secondaries see a new serial.
 */
import type { Store } from "../../core/store/store.ts";
import { DnsError } from "../errors.ts";
import { CLASS, TYPE, typeName, typeNumber } from "../wire/constants.ts";
import { absolute, canonical, isSubdomain, nameError, resolveName } from "../wire/names.ts";
import { formatRdata, parseRdata, TEXT_TYPES, tokenize } from "../wire/rdata-text.ts";
import type { Rr } from "../wire/types.ts";

export const CHANGE_TOPIC = "dns";

export interface ZoneRow {
  name: string;
  serial: number;
  ttl: number;
  mname: string;
  rname: string;
  refresh: number;
  retry: number;
  expire: number;
  minimum: number;
  created_at: number;
  updated_at: number;
}

export interface RecordRow {
  id: number;
  zone: string;
  name: string;
  type: string;
  ttl: number;
  data: string;
}

export type SoaFields = Partial<Pick<ZoneRow, "ttl" | "mname" | "rname" | "refresh" | "retry" | "expire" | "minimum" | "serial">>;

export const DEFAULT_RECORD_TTL = 3600;

export class ZoneRepository {
  constructor(private store: Store) {}

  private get db() {
    return this.store.db;
  }

  listZones(): ZoneRow[] {
    return this.db.query("SELECT * FROM dns_zones ORDER BY name").all() as ZoneRow[];
  }

  zone(name: string): ZoneRow | undefined {
    return (this.db.query("SELECT * FROM dns_zones WHERE name = ?1").get(canonical(name)) as ZoneRow | null) ?? undefined;
  }

  private requireZone(name: string): ZoneRow {
    const z = this.zone(name);
    if (!z) throw DnsError.zoneMissing(canonical(name));
    return z;
  }

  addZone(name: string, soa: SoaFields = {}): ZoneRow {
    const zone = canonical(name);
    const err = nameError(zone);
    if (err || zone === "") throw new DnsError(`zone name "${name}" ${err ?? "is the root"}`, "DNS_BAD_ZONE", "give a domain such as example.com");
    return this.store.tx(() => {
      if (this.zone(zone)) throw DnsError.zoneExists(zone);
      const now = Date.now();
      this.db.query(
        `INSERT INTO dns_zones (name, serial, ttl, mname, rname, refresh, retry, expire, minimum, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?10)`,
      ).run(zone, soa.serial ?? initialSerial(now), soa.ttl ?? 3600, canonical(soa.mname ?? `ns1.${zone}`), canonical(soa.rname ?? `hostmaster.${zone}`),
        soa.refresh ?? 3600, soa.retry ?? 600, soa.expire ?? 1209600, soa.minimum ?? 300, now);
      this.store.changes.bump(CHANGE_TOPIC);
      return this.zone(zone)!;
    });
  }

  removeZone(name: string): number {
    const zone = canonical(name);
    return this.store.tx(() => {
      this.requireZone(zone);
      const n = (this.db.query("SELECT COUNT(*) AS n FROM dns_records WHERE zone = ?1").get(zone) as { n: number }).n;
      this.db.query("DELETE FROM dns_records WHERE zone = ?1").run(zone);
      this.db.query("DELETE FROM dns_zones WHERE name = ?1").run(zone);
      this.store.changes.bump(CHANGE_TOPIC);
      return n;
    });
  }

  records(zone: string, filter: { name?: string; type?: string } = {}): RecordRow[] {
    const z = this.requireZone(zone);
    const name = filter.name !== undefined ? this.ownerName(z.name, filter.name) : undefined;
    const type = filter.type !== undefined ? this.typeOf(filter.type) : undefined;
    return this.db
      .query(`SELECT id, zone, name, type, ttl, data FROM dns_records WHERE zone = ?1 AND (?2 IS NULL OR name = ?2) AND (?3 IS NULL OR type = ?3) ORDER BY name, type, id`)
      .all(z.name, name ?? null, type !== undefined ? typeName(type) : null) as RecordRow[];
  }

  /** Add records to an RRset (duplicates are skipped, as RFC 2181 §5 says RRsets have no duplicates). */
  addRecords(zone: string, name: string, type: string, datas: string[], ttl?: number): { added: number; serial: number } {
    return this.store.tx(() => {
      const z = this.requireZone(zone);
      const owner = this.ownerName(z.name, name);
      const t = this.typeOf(type);
      const normalized = datas.map((d) => this.normalize(z.name, owner, t, d));
      this.checkCname(z.name, owner, t);
      const existing = new Set((this.db.query("SELECT data FROM dns_records WHERE zone = ?1 AND name = ?2 AND type = ?3").all(z.name, owner, typeName(t)) as { data: string }[]).map((r) => r.data));
      // an RRset has one TTL (RFC 2181 §5.2): adding with a TTL changes the set's TTL
      const setTtl = ttl ?? (this.db.query("SELECT ttl FROM dns_records WHERE zone = ?1 AND name = ?2 AND type = ?3 LIMIT 1").get(z.name, owner, typeName(t)) as { ttl: number } | null)?.ttl ?? z.ttl;
      let added = 0;
      const now = Date.now();
      for (const d of normalized) {
        if (existing.has(d)) continue;
        existing.add(d);
        this.db.query("INSERT INTO dns_records (zone, name, type, ttl, data, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)").run(z.name, owner, typeName(t), setTtl, d, now);
        added++;
      }
      this.db.query("UPDATE dns_records SET ttl = ?4 WHERE zone = ?1 AND name = ?2 AND type = ?3").run(z.name, owner, typeName(t), setTtl);
      return { added, serial: this.touch(z) };
    });
  }

  /** Replace the whole RRset (name, type) with `datas`. */
  setRecords(zone: string, name: string, type: string, datas: string[], ttl?: number): { removed: number; added: number; serial: number } {
    return this.store.tx(() => {
      const z = this.requireZone(zone);
      const owner = this.ownerName(z.name, name);
      const t = this.typeOf(type);
      const normalized = [...new Set(datas.map((d) => this.normalize(z.name, owner, t, d)))];
      this.checkCname(z.name, owner, t);
      const removed = this.db.query("DELETE FROM dns_records WHERE zone = ?1 AND name = ?2 AND type = ?3").run(z.name, owner, typeName(t)).changes;
      const now = Date.now();
      for (const d of normalized) {
        this.db.query("INSERT INTO dns_records (zone, name, type, ttl, data, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)").run(z.name, owner, typeName(t), ttl ?? z.ttl, d, now);
      }
      return { removed, added: normalized.length, serial: this.touch(z) };
    });
  }

  /** Remove records at `name`: all of them, one type, or one record of a type. */
  removeRecords(zone: string, name: string, type?: string, data?: string): { removed: number; serial: number } {
    return this.store.tx(() => {
      const z = this.requireZone(zone);
      const owner = this.ownerName(z.name, name);
      const t = type !== undefined ? this.typeOf(type) : undefined;
      const d = data !== undefined && t !== undefined ? this.normalize(z.name, owner, t, data) : null;
      const removed = this.db
        .query("DELETE FROM dns_records WHERE zone = ?1 AND name = ?2 AND (?3 IS NULL OR type = ?3) AND (?4 IS NULL OR data = ?4)")
        .run(z.name, owner, t !== undefined ? typeName(t) : null, d).changes;
      if (removed === 0) return { removed, serial: z.serial };
      return { removed, serial: this.touch(z) };
    });
  }

  /** Load parsed records (from a zone file) into `zone`, creating it; the file's SOA sets the zone's fields. */
  importRecords(zone: string, records: Rr[], replace: boolean): { added: number; serial: number } {
    const origin = canonical(zone);
    return this.store.tx(() => {
      const soa = records.find((r) => r.type === TYPE.SOA && canonical(r.name) === origin);
      const fields: SoaFields = soa ? { ttl: soa.ttl, mname: soa.data.mname, rname: soa.data.rname, refresh: soa.data.refresh, retry: soa.data.retry, expire: soa.data.expire, minimum: soa.data.minimum } : {};
      let z = this.zone(origin);
      if (!z) z = this.addZone(origin, { ...fields, serial: soa?.data.serial });
      else if (soa) {
        this.db.query("UPDATE dns_zones SET ttl = ?2, mname = ?3, rname = ?4, refresh = ?5, retry = ?6, expire = ?7, minimum = ?8 WHERE name = ?1")
          .run(origin, fields.ttl!, canonical(fields.mname!), canonical(fields.rname!), fields.refresh!, fields.retry!, fields.expire!, fields.minimum!);
      }
      if (replace) this.db.query("DELETE FROM dns_records WHERE zone = ?1").run(origin);
      const seen = new Set((this.db.query("SELECT name || ' ' || type || ' ' || data AS k FROM dns_records WHERE zone = ?1").all(origin) as { k: string }[]).map((r) => r.k));
      let added = 0;
      const now = Date.now();
      for (const rr of records) {
        if (rr.type === TYPE.SOA) continue;
        const owner = canonical(rr.name);
        if (!isSubdomain(owner, origin)) throw DnsError.outOfZone(absolute(owner), origin);
        const data = formatRdata(rr.type, rr.data);
        const k = `${owner} ${typeName(rr.type)} ${data}`;
        if (seen.has(k)) continue;
        seen.add(k);
        this.db.query("INSERT INTO dns_records (zone, name, type, ttl, data, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)").run(origin, owner, typeName(rr.type), rr.ttl, data, now);
        added++;
      }
      return { added, serial: this.touch(this.zone(origin)!) };
    });
  }

  /** The zone's records as Rr (SOA first); rows that no longer parse are reported, not served. */
  load(zone: ZoneRow, onBad?: (row: RecordRow, reason: string) => void): Rr[] {
    const out: Rr[] = [this.soaOf(zone)];
    const rows = this.db.query("SELECT id, zone, name, type, ttl, data FROM dns_records WHERE zone = ?1 ORDER BY id").all(zone.name) as RecordRow[];
    for (const row of rows) {
      try {
        const type = typeNumber(row.type)!;
        out.push({ name: row.name, type, class: CLASS.IN, ttl: row.ttl, data: parseRdata(type, tokenize(row.data), zone.name) });
      } catch (e) {
        onBad?.(row, (e as Error).message);
      }
    }
    return out;
  }

  soaOf(z: ZoneRow): Rr {
    return {
      name: z.name, type: TYPE.SOA, class: CLASS.IN, ttl: z.ttl,
      data: { mname: z.mname, rname: z.rname, serial: z.serial, refresh: z.refresh, retry: z.retry, expire: z.expire, minimum: z.minimum },
    };
  }

  /** Bump the SOA serial (always upward, at least the current Unix time) and the change feed. */
  private touch(z: ZoneRow): number {
    const now = Date.now();
    const serial = nextSerial(z.serial, now);
    this.db.query("UPDATE dns_zones SET serial = ?2, updated_at = ?3 WHERE name = ?1").run(z.name, serial, now);
    this.store.changes.bump(CHANGE_TOPIC);
    return serial;
  }

  /**
   * Owner name from user input: "@" is the apex; "www" is relative; a name that already ends in
   * the zone ("www.example.com" in example.com) or ends with a dot is taken as absolute.
   */
  ownerName(zone: string, input: string): string {
    const lower = input.toLowerCase();
    const owner = canonical(lower === zone || lower.endsWith("." + zone) ? lower + "." : resolveName(lower, zone));
    const err = nameError(owner);
    if (err) throw DnsError.badRecord(`name "${input}"`, err);
    if (!isSubdomain(owner, zone)) throw DnsError.outOfZone(absolute(owner), zone);
    return owner;
  }

  private typeOf(type: string): number {
    const t = typeNumber(type);
    if (t === undefined || t === TYPE.OPT || t === TYPE.ANY || t === TYPE.AXFR || t === TYPE.IXFR) {
      throw new DnsError(`unknown record type "${type}"`, "DNS_BAD_TYPE", "use A, AAAA, CNAME, MX, NS, PTR, SRV, TXT, CAA, NAPTR, SSHFP, TLSA, SVCB, HTTPS, or TYPEnnn with \\# rdata");
    }
    if (t === TYPE.SOA) throw new DnsError("the SOA is managed by securely", "DNS_BAD_TYPE", "set its fields with dns:zone:add options or import a zone file; the serial bumps itself");
    return t;
  }

  /** Parse and re-format rdata so equal records compare equal; names resolve against the zone. */
  private normalize(zone: string, owner: string, type: number, data: string): string {
    try {
      return formatRdata(type, parseRdata(type, tokenize(data), zone));
    } catch (e) {
      const hint = TEXT_TYPES.has(type) ? "" : " (write it as \\# LENGTH HEX)";
      throw DnsError.badRecord(`${typeName(type)} ${absolute(owner)} "${data}"`, (e as Error).message + hint);
    }
  }

  private checkCname(zone: string, owner: string, type: number): void {
    const types = (this.db.query("SELECT DISTINCT type FROM dns_records WHERE zone = ?1 AND name = ?2").all(zone, owner) as { type: string }[]).map((r) => r.type);
    const others = types.filter((t) => t !== typeName(type));
    if (type === TYPE.CNAME ? others.length > 0 : types.includes("CNAME")) throw DnsError.cnameConflict(absolute(owner));
  }
}

/** Serial for a new zone: the Unix time, so re-created zones still move forward. */
export function initialSerial(nowMs: number): number {
  return Math.floor(nowMs / 1000) >>> 0;
}

/** Next serial: +1, or the Unix time when that is larger (RFC 1982 arithmetic stays forward). */
export function nextSerial(serial: number, nowMs: number): number {
  return Math.max((serial + 1) >>> 0, Math.floor(nowMs / 1000) >>> 0);
}
