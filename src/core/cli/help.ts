import type { ArgsDef } from "citty";
import type { Module } from "../module.ts";

/** `securely --help`: every namespace and its commands, grouped. */
export function renderHelp(modules: Module[], version: string, globals: ArgsDef): string {
  const lines = [`securely ${version} — one binary for a server's support stack`, "", "Usage: securely <namespace:command> [args] [flags]", ""];
  const width = Math.max(...modules.flatMap((m) => m.commands.map((c) => c.name.length)), 10) + 2;
  for (const m of modules) {
    if (m.commands.length === 0) continue;
    lines.push(`${m.name} — ${m.description}`);
    for (const c of [...m.commands].sort((a, b) => a.name.localeCompare(b.name))) lines.push(`  ${c.name.padEnd(width)}${c.description}`);
    lines.push("");
  }
  lines.push("Global flags:");
  for (const [name, def] of Object.entries(globals)) {
    const alias = "alias" in def && def.alias ? `-${[def.alias].flat()[0]}, ` : "    ";
    lines.push(`  ${alias}--${name.padEnd(12)}${def.description ?? ""}`);
  }
  lines.push("", "Run securely <command> --help for a command's flags.", "");
  return lines.join("\n");
}
