/** Helpers shared by the dns:* commands. */
import type { App } from "../../core/app.ts";
import { dnsOptions } from "../config.ts";
import { canonical } from "../wire/names.ts";
import type { Catalog } from "../zone/catalog.ts";
import { buildCatalog } from "../zone/load.ts";

/** Every zone securely would serve with this config and store (for list and export). */
export function currentCatalog(app: App): Catalog {
  const o = dnsOptions(app);
  const zones: Record<string, { file?: string; records: string[]; ttl: number }> = {};
  for (const [n, z] of Object.entries(o.zones)) zones[canonical(n)] = { ...z, file: z.file ? app.resolvePath(z.file) : undefined };
  return buildCatalog({ zones, localDomains: o.local_domains, store: app.store(), onBadRecord: (w, r) => app.log.warn(`skipping ${w}: ${r}`) });
}

/** Rdata types whose value is one token: extra positionals are extra records. */
export const SINGLE_TOKEN = new Set(["A", "AAAA", "NS", "CNAME", "PTR"]);

/** Positionals after ZONE NAME TYPE → record values. */
export function recordValues(type: string, rest: string[]): string[] {
  if (rest.length === 0) return [];
  return SINGLE_TOKEN.has(type.toUpperCase()) ? rest : [rest.join(" ")];
}
