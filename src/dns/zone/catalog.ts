/** The set of zones served, found by longest suffix match (Hickory's Catalog). */
import { parent } from "../wire/names.ts";
import type { Zone } from "./zone.ts";

export class Catalog {
  private zones = new Map<string, Zone>();

  constructor(zones: Zone[] = []) {
    for (const z of zones) this.zones.set(z.origin, z);
  }

  /** The most specific zone containing the canonical name `key`. */
  find(key: string): Zone | undefined {
    if (this.zones.size === 0) return undefined;
    for (let n: string | undefined = key; n !== undefined; n = parent(n)) {
      const z = this.zones.get(n);
      if (z) return z;
    }
    return undefined;
  }

  get(origin: string): Zone | undefined {
    return this.zones.get(origin);
  }

  list(): Zone[] {
    return [...this.zones.values()].sort((a, b) => a.origin.localeCompare(b.origin));
  }

  get size(): number {
    return this.zones.size;
  }
}
