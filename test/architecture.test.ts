/**
 * DESIGN.md's dependency rules, enforced: main.ts → namespaces → core. core imports no namespace;
 * a namespace imports another only through its index.ts and only along the allowed edges.
 */
import { expect, test } from "bun:test";
import { Glob } from "bun";
import { readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { ROOT } from "./harness.ts";

const ALLOWED: Record<string, string[]> = {
  core: [],
  settings: ["core"],
  cache: ["core"],
  queue: ["core"],
  tls: ["core"],
  dns: ["core"],
  workflow: ["core", "queue"],
  schedule: ["core", "queue", "cache"],
  proxy: ["core", "tls", "cache"],
};

function areaOf(file: string): string | undefined {
  const rel = relative(join(ROOT, "src"), file);
  if (rel === "main.ts") return "main";
  return rel.split("/")[0];
}

test("imports follow the dependency rules", () => {
  const violations: string[] = [];
  for (const f of new Glob("src/**/*.ts").scanSync(ROOT)) {
    const file = join(ROOT, f);
    const from = areaOf(file)!;
    const text = readFileSync(file, "utf8");
    for (const m of text.matchAll(/(?:import|export)[^'"]*?from\s+["']([^"']+)["']|import\(\s*["']([^"']+)["']\s*\)/g)) {
      const spec = m[1] ?? m[2]!;
      if (!spec.startsWith(".")) continue;
      const target = resolve(dirname(file), spec);
      if (!target.startsWith(join(ROOT, "src"))) continue; // package.json for the version
      const to = areaOf(target)!;
      if (from === "main" || to === from) continue;
      if (!(ALLOWED[from] ?? []).includes(to)) violations.push(`${f} imports ${to} (${spec}): ${from} may import only ${ALLOWED[from]?.join(", ") || "nothing"}`);
      else if (to !== "core" && relative(join(ROOT, "src", to), target) !== "index.ts") violations.push(`${f} reaches into ${to} (${spec}): import ${to}/index.ts only`);
    }
  }
  expect(violations).toEqual([]);
});

test("every namespace folder has an index.ts listed in main.ts", () => {
  const main = readFileSync(join(ROOT, "src/main.ts"), "utf8");
  for (const ns of Object.keys(ALLOWED).filter((n) => n !== "core")) expect(main).toContain(`./${ns}/index.ts`);
});
