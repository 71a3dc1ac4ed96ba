import { existsSync, statSync, chmodSync, rmSync } from "node:fs";
import { resolve } from "node:path";
import { defineCommand } from "../module.ts";
import { SecurelyError, UsageError } from "../errors.ts";
import { table } from "../cli/output.ts";

export const storeInfo = defineCommand({
  name: "store:info",
  description: "Show the store's path, size, WAL state, schema versions, tables and row counts",
  run({ app }) {
    const store = app.store();
    const db = store.db;
    const size = (p: string) => (existsSync(p) ? statSync(p).size : 0);
    const tables = (db.query("SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%' ORDER BY name").all() as { name: string }[]).map(
      (t) => ({ table: t.name, rows: (db.query(`SELECT COUNT(*) AS n FROM "${t.name}"`).get() as { n: number }).n }),
    );
    const info = {
      path: store.path,
      size_bytes: size(store.path),
      wal_bytes: size(store.path + "-wal"),
      journal_mode: (db.query("PRAGMA journal_mode").get() as any).journal_mode,
      schema: db.query("SELECT namespace, MAX(version) AS version FROM core_migrations GROUP BY namespace ORDER BY namespace").all(),
      tables,
    };
    app.print(info, (i) =>
      [`path: ${i.path}`, `size: ${i.size_bytes} bytes (wal ${i.wal_bytes} bytes, journal ${i.journal_mode})`, "", table(i.tables)].join("\n"),
    );
  },
});

export const storeBackup = defineCommand({
  name: "store:backup",
  description: "Write a consistent copy of the store to FILE while servers keep running",
  args: {
    file: { type: "positional", description: "Destination file", required: true },
    force: { type: "boolean", description: "Overwrite FILE if it exists" },
  },
  run({ app, args }) {
    if (!args.file) throw new UsageError("store:backup: FILE is empty", "give the destination file, e.g. securely store:backup /var/backups/securely.db");
    // --force removes the destination first: never let that be the live store or its WAL files
    const live = resolve(app.cwd, app.storePath);
    const dest = resolve(app.cwd, args.file);
    if ([live, `${live}-wal`, `${live}-shm`].includes(dest)) {
      throw new UsageError(`backup destination ${args.file} is the store itself (store.path)`, "give another file; nothing was changed");
    }
    if (existsSync(args.file)) {
      if (!args.force) throw new SecurelyError(`backup destination ${args.file} already exists`, { hint: "pass --force to overwrite" });
      if (statSync(args.file).isDirectory()) throw new SecurelyError(`backup destination ${args.file} is a folder`, { hint: "give a file path inside it, e.g. " + `${args.file.replace(/\/$/, "")}/securely.db` });
      rmSync(args.file);
    }
    const store = app.store();
    // VACUUM INTO reads one snapshot under a read transaction: consistent while writers continue
    try {
      store.db.prepare("VACUUM INTO ?1").run(args.file);
    } catch (err) {
      throw new SecurelyError(`cannot write backup ${args.file}: ${(err as Error).message}`);
    }
    chmodSync(args.file, 0o600);
    app.print({ backup: args.file, bytes: statSync(args.file).size }, (r) => `backed up ${store.path} to ${r.backup} (${r.bytes} bytes)`);
  },
});

export const storeCheck = defineCommand({
  name: "store:check",
  description: "Run SQLite's integrity check on the store; exit 1 on corruption",
  run({ app }) {
    const rows = app.store().db.query("PRAGMA integrity_check").all() as { integrity_check: string }[];
    const ok = rows.length === 1 && rows[0]!.integrity_check === "ok";
    app.print({ ok, problems: ok ? [] : rows.map((r) => r.integrity_check) }, (r) => (r.ok ? "store integrity: ok" : r.problems.join("\n")));
    return ok ? 0 : 1;
  },
});
