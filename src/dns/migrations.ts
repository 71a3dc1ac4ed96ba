/** Store tables of the dns namespace: zones (SOA fields, serial) and their records, one row per RR. */
import type { Migration } from "../core/store/migrations.ts";

export const dnsMigrations: Migration[] = [
  {
    namespace: "dns",
    version: 1,
    description: "zones and records",
    up: `
      CREATE TABLE dns_zones (
        name TEXT PRIMARY KEY,            -- canonical apex, no trailing dot ("example.com")
        serial INTEGER NOT NULL,          -- SOA serial, bumped by every change to the zone
        ttl INTEGER NOT NULL,             -- SOA TTL
        mname TEXT NOT NULL,
        rname TEXT NOT NULL,
        refresh INTEGER NOT NULL,
        retry INTEGER NOT NULL,
        expire INTEGER NOT NULL,
        minimum INTEGER NOT NULL,         -- negative-caching TTL (RFC 2308)
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL
      );
      CREATE TABLE dns_records (
        id INTEGER PRIMARY KEY,
        zone TEXT NOT NULL REFERENCES dns_zones(name) ON DELETE CASCADE,
        name TEXT NOT NULL,               -- canonical owner, absolute without the trailing dot
        type TEXT NOT NULL,               -- "A", "HTTPS", "TYPE1234"
        ttl INTEGER NOT NULL,
        data TEXT NOT NULL,               -- rdata in presentation form, absolute names
        created_at INTEGER NOT NULL
      );
      CREATE INDEX dns_records_zone_name ON dns_records (zone, name, type);
    `,
  },
];
