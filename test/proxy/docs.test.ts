/** docs/proxy.md documents every config key and every command. */
import { expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { Schema } from "../../src/core/config/schema.ts";
import { proxySchema } from "../../src/proxy/config.ts";
import { proxyModule } from "../../src/proxy/index.ts";
import { ROOT } from "../harness.ts";

const doc = readFileSync(join(ROOT, "docs/proxy.md"), "utf8");

function paths(s: Schema, p: string, out: string[]): string[] {
  if (s.kind === "object") for (const [k, v] of Object.entries(s.fields)) {
    out.push(`${p}.${k}`);
    paths(v, `${p}.${k}`, out);
  }
  else if (s.kind === "map" && s.of.kind === "object") paths(s.of, `${p}.NAME`, out);
  else if (s.kind === "list" && s.of.kind === "object") paths(s.of, `${p}[]`, out);
  return out;
}

test("every proxy config key has a row in docs/proxy.md", () => {
  const missing = paths(proxySchema, "proxy", []).filter((p) => !doc.includes(`\`${p}\``));
  expect(missing).toEqual([]);
});

test("every proxy command is documented", () => {
  for (const c of proxyModule.commands) expect(doc).toContain(`securely ${c.name}`);
});
