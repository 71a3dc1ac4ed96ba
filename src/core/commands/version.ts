import { Database } from "bun:sqlite";
import { defineCommand } from "../module.ts";
import { VERSION } from "../version.ts";

export const versionCommand = defineCommand({
  name: "version",
  description: "Print securely's version and the Bun and SQLite versions it was built with",
  run({ app }) {
    const db = new Database(":memory:");
    const sqlite = (db.query("SELECT sqlite_version() AS v").get() as { v: string }).v;
    db.close();
    const info = { securely: VERSION, bun: Bun.version, sqlite, platform: `${process.platform}-${process.arch}` };
    app.print(info, (i) => `securely ${i.securely} (bun ${i.bun}, sqlite ${i.sqlite}, ${i.platform})`);
  },
});
