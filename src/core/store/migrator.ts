import type { Database } from "bun:sqlite";
import { SecurelyError } from "../errors.ts";
import type { Migration } from "./migrations.ts";

/**
 * Apply pending migrations per namespace, each in its own transaction, and refuse a store whose
 * schema is newer than this binary knows (an older binary would corrupt it).
 */
export function runMigrations(db: Database, migrations: Migration[], where: string): void {
  db.exec(`CREATE TABLE IF NOT EXISTS core_migrations (
    namespace TEXT NOT NULL, version INTEGER NOT NULL, description TEXT NOT NULL, applied_at INTEGER NOT NULL,
    PRIMARY KEY (namespace, version))`);
  const byNs = new Map<string, Migration[]>();
  for (const m of migrations) byNs.set(m.namespace, [...(byNs.get(m.namespace) ?? []), m]);
  const current = db.prepare("SELECT COALESCE(MAX(version), 0) AS v FROM core_migrations WHERE namespace = ?1");
  const insert = db.prepare("INSERT INTO core_migrations VALUES (?1, ?2, ?3, ?4)");
  const known = new Set(byNs.keys());
  for (const row of db.query("SELECT namespace, MAX(version) AS v FROM core_migrations GROUP BY namespace").all() as { namespace: string; v: number }[]) {
    const mine = byNs.get(row.namespace) ?? [];
    const max = Math.max(0, ...mine.map((m) => m.version));
    if (known.has(row.namespace) && row.v > max) {
      throw new SecurelyError(
        `store ${where} has ${row.namespace} schema version ${row.v}, newer than this binary knows (${max})`,
        { hint: "run a newer securely binary, or restore a backup made by this version" },
      );
    }
  }
  for (const [ns, list] of byNs) {
    list.sort((a, b) => a.version - b.version);
    const have = (current.get(ns) as { v: number }).v;
    for (const m of list) {
      if (m.version <= have) continue;
      db.transaction(() => {
        // another process may have applied it between our read and our write lock
        if ((current.get(ns) as { v: number }).v >= m.version) return;
        if (typeof m.up === "string") db.exec(m.up);
        else m.up(db);
        insert.run(ns, m.version, m.description, Date.now());
      }).immediate();
    }
  }
}
