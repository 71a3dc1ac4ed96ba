import { readFileSync, writeFileSync } from "node:fs";
import { table } from "../../core/cli/output.ts";
import { SecurelyError, UsageError } from "../../core/errors.ts";
import { defineCommand } from "../../core/module.ts";
import { canonical } from "../wire/names.ts";
import { formatZone, parseMasterFile, ZoneFileError } from "../zone/master-file.ts";
import { ZoneRepository } from "../zone/store-zones.ts";
import { currentCatalog } from "./common.ts";

const int = (v: unknown, flag: string) => {
  if (v === undefined) return undefined;
  if (!/^\d+$/.test(String(v))) throw new SecurelyError(`--${flag} must be a whole number of seconds, got "${v}"`, { exitCode: 2 });
  return Number(v);
};

/** The SOA names end up in zone files: a space or ; ( ) " would make the export unreadable. */
function soaName(v: string | undefined, flag: string): string | undefined {
  if (v === undefined) return undefined;
  const bad = /[\s;()"\\\x00-\x1f\x7f]/.exec(v);
  if (v === "" || bad) throw new UsageError(`${flag} ${JSON.stringify(v)} is not a domain name${bad ? `: it contains ${JSON.stringify(bad[0])}` : ""}`, flag === "--ns" ? "e.g. --ns ns1.example.com" : "e.g. --email hostmaster@example.com");
  return v;
}

export const zoneAdd = defineCommand({
  name: "dns:zone:add",
  description: "Create a zone in the store (SOA fields from flags; the serial manages itself)",
  args: {
    zone: { type: "positional", description: "Zone name, e.g. example.com", required: true },
    ns: { type: "string", description: "Primary name server (SOA MNAME), default ns1.ZONE" },
    email: { type: "string", description: "Contact (SOA RNAME, hostmaster.ZONE or an email)" },
    ttl: { type: "string", description: "SOA TTL and the default record TTL (seconds, default 3600)" },
    minimum: { type: "string", description: "Negative-caching TTL (seconds, default 300)" },
  },
  run({ app, args }) {
    const z = new ZoneRepository(app.store()).addZone(args.zone, {
      mname: soaName(args.ns, "--ns"), rname: soaName(args.email, "--email")?.replace("@", "."), ttl: int(args.ttl, "ttl"), minimum: int(args.minimum, "minimum"),
    });
    app.print(z, (r) => `zone ${r.name} created (serial ${r.serial})`);
  },
});

export const zoneRemove = defineCommand({
  name: "dns:zone:remove",
  description: "Delete a zone and all its records from the store",
  args: { zone: { type: "positional", description: "Zone name", required: true } },
  run({ app, args }) {
    const n = new ZoneRepository(app.store()).removeZone(args.zone);
    app.print({ zone: canonical(args.zone), removed_records: n }, (r) => `zone ${r.zone} removed (${r.removed_records} records)`);
  },
});

export const zoneList = defineCommand({
  name: "dns:zone:list",
  description: "List every zone served: from zone files, inline config, the store and local-dev domains",
  run({ app }) {
    const rows = currentCatalog(app).list().map((z) => ({ zone: z.origin, serial: z.serial, records: z.recordCount, sources: z.sources.join(",") }));
    app.print(rows, (r) => table(r));
  },
});

export const zoneImport = defineCommand({
  name: "dns:zone:import",
  description: "Load an RFC 1035 zone file into the store (creates the zone; --replace drops its old records)",
  args: {
    file: { type: "positional", description: "Zone file", required: true },
    zone: { type: "string", description: "Zone name (default: the file's $ORIGIN or SOA owner, else the file name)" },
    replace: { type: "boolean", description: "Remove the zone's existing records first" },
  },
  run({ app, args }) {
    let text: string;
    try {
      text = readFileSync(args.file, "utf8");
    } catch (e) {
      throw new SecurelyError(`cannot read zone file ${args.file}: ${(e as Error).message}`);
    }
    const origin = canonical(args.zone ?? /^\$ORIGIN\s+(\S+)/m.exec(text)?.[1] ?? args.file.replace(/^.*\//, "").replace(/\.(zone|db|txt)$/, ""));
    let records;
    try {
      records = parseMasterFile(text, { origin, file: args.file });
    } catch (e) {
      if (e instanceof ZoneFileError) throw new SecurelyError(e.message, { code: e.code, hint: "nothing was imported" });
      throw e;
    }
    const r = new ZoneRepository(app.store()).importRecords(origin, records, Boolean(args.replace));
    app.print({ zone: origin, ...r }, (x) => `imported ${x.added} records into ${x.zone} (serial ${x.serial})`);
  },
});

export const zoneExport = defineCommand({
  name: "dns:zone:export",
  description: "Print a served zone (any source) as an RFC 1035 zone file",
  args: {
    zone: { type: "positional", description: "Zone name", required: true },
    output: { type: "string", alias: ["o"], description: "Write to this file instead of stdout" },
  },
  run({ app, args }) {
    const zone = currentCatalog(app).get(canonical(args.zone));
    if (!zone) throw new SecurelyError(`zone ${canonical(args.zone)} is not served`, { code: "DNS_ZONE_MISSING", hint: "see securely dns:zone:list" });
    const text = formatZone(zone.origin, [zone.soa, ...zone.records()]);
    if (args.output) writeFileSync(args.output, text);
    else app.print(app.json ? { zone: zone.origin, text } : text, (t) => (typeof t === "string" ? t : t.text));
  },
});
