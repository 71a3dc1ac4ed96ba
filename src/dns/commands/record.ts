import { table } from "../../core/cli/output.ts";
import { UsageError } from "../../core/errors.ts";
import { defineCommand } from "../../core/module.ts";
import { ZoneRepository } from "../zone/store-zones.ts";
import { recordValues } from "./common.ts";

const ttlOf = (v: unknown) => {
  if (v === undefined) return undefined;
  if (!/^\d+$/.test(String(v))) throw new UsageError(`--ttl must be a whole number of seconds, got "${v}"`);
  return Number(v);
};

const recordArgs = {
  zone: { type: "positional", description: "Zone (must exist in the store: dns:zone:add)", required: true },
  name: { type: "positional", description: "Owner: @ for the apex, www (relative), www.example.com, or *.dev for a wildcard", required: true },
  type: { type: "positional", description: "A, AAAA, CNAME, MX, NS, PTR, SRV, TXT, CAA, NAPTR, SSHFP, TLSA, SVCB, HTTPS, TYPEnnn", required: true },
  ttl: { type: "string", description: "TTL in seconds (default: the RRset's current TTL, else the zone's)" },
} as const;

/** A space, quote, ; ( ) or control character would write a zone file that cannot be read back. */
function ownerOf(name: string): string {
  const bad = /[\s;()"\\\x00-\x1f\x7f]/.exec(name);
  if (bad) throw new UsageError(`invalid owner name ${JSON.stringify(name)}: it contains ${JSON.stringify(bad[0])}`, "use letters, digits, - and _ in dot-separated labels (@ for the apex, *.name for a wildcard)");
  return name;
}

function values(args: { type: string; _: string[] }): string[] {
  const v = recordValues(args.type, args._.slice(3));
  if (v.length === 0) throw new UsageError("missing record data", 'e.g. securely dns:record:add example.com www A 192.0.2.1, or MX "10 mail"');
  return v;
}

export const recordAdd = defineCommand({
  name: "dns:record:add",
  variadic: true,
  description: "Add records to a store zone (served within a second by a running dns:serve; serial bumps)",
  args: recordArgs,
  run({ app, args }) {
    const r = new ZoneRepository(app.store()).addRecords(args.zone, ownerOf(args.name), args.type, values(args as any), ttlOf(args.ttl));
    app.print(r, (x) => `added ${x.added} record(s); ${args.zone} serial ${x.serial}`);
  },
});

export const recordSet = defineCommand({
  name: "dns:record:set",
  variadic: true,
  description: "Replace the records of one name and type in a store zone",
  args: recordArgs,
  run({ app, args }) {
    const r = new ZoneRepository(app.store()).setRecords(args.zone, ownerOf(args.name), args.type, values(args as any), ttlOf(args.ttl));
    app.print(r, (x) => `replaced ${x.removed} with ${x.added} record(s); ${args.zone} serial ${x.serial}`);
  },
});

export const recordRemove = defineCommand({
  name: "dns:record:remove",
  variadic: true,
  description: "Remove records from a store zone: all at NAME, one TYPE, or one record (TYPE DATA)",
  args: {
    zone: recordArgs.zone,
    name: recordArgs.name,
    type: { type: "positional", description: "Only this type", required: false },
  },
  run({ app, args }) {
    const rest = (args as any)._.slice(3) as string[];
    const data = rest.length ? rest.join(" ") : undefined;
    const r = new ZoneRepository(app.store()).removeRecords(args.zone, args.name, args.type, data);
    app.print(r, (x) => (x.removed ? `removed ${x.removed} record(s); ${args.zone} serial ${x.serial}` : "no matching records"));
    return r.removed ? 0 : 1;
  },
});

export const recordList = defineCommand({
  name: "dns:record:list",
  description: "List the records of a store zone",
  args: {
    zone: recordArgs.zone,
    name: { type: "positional", description: "Only this owner", required: false },
    type: { type: "string", description: "Only this type" },
  },
  run({ app, args }) {
    const rows = new ZoneRepository(app.store()).records(args.zone, { name: args.name, type: args.type });
    app.print(rows.map((r) => ({ id: r.id, name: r.name + ".", ttl: r.ttl, type: r.type, data: r.data })), (r) => table(r));
  },
});
