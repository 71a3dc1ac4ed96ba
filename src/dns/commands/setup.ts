/**
 * `dns:setup`: route only the local-dev TLDs to securely, leaving every other lookup to the system
 * resolver — a systemd-resolved drop-in on Linux, /etc/resolver/<tld> on macOS (what Valet
 * writes). Prints the steps; `--apply` writes the files (needs root) and restarts resolved.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { SecurelyError, UsageError } from "../../core/errors.ts";
import { splitHostPort } from "../../core/server/index.ts";
import { defineCommand } from "../../core/module.ts";
import { dnsOptions } from "../config.ts";

export interface SetupPlan {
  os: "linux" | "macos";
  files: Array<{ path: string; content: string }>;
  commands: string[];
  undo: string[];
}

export function setupPlan(os: "linux" | "macos", tlds: string[], host: string, port: number): SetupPlan {
  const addr = host === "0.0.0.0" || host === "" ? "127.0.0.1" : host === "::" ? "::1" : host;
  if (os === "macos") {
    return {
      os,
      files: tlds.map((t) => ({ path: `/etc/resolver/${t}`, content: `# written by securely dns:setup\nnameserver ${addr}\nport ${port}\n` })),
      commands: [],
      undo: tlds.map((t) => `sudo rm /etc/resolver/${t}`),
    };
  }
  const server = addr.includes(":") ? `[${addr}]:${port}` : `${addr}:${port}`;
  const file = "/etc/systemd/resolved.conf.d/securely.conf";
  return {
    os,
    files: [{ path: file, content: `# written by securely dns:setup: only ${tlds.map((t) => "*." + t).join(", ")} go to securely\n[Resolve]\nDNS=${server}\nDomains=${tlds.map((t) => "~" + t).join(" ")}\n` }],
    commands: ["systemctl restart systemd-resolved"],
    undo: [`sudo rm ${file}`, "sudo systemctl restart systemd-resolved"],
  };
}

export const setupCommand = defineCommand({
  name: "dns:setup",
  description: "Print (or --apply) the OS step that sends only the local-dev TLDs to securely",
  args: {
    apply: { type: "boolean", description: "Write the files and restart the resolver (needs root)" },
    os: { type: "string", description: "linux or macos (default: this machine's)" },
    root: { type: "string", description: "Write under this folder instead of / (packaging, tests); skips the restart" },
  },
  async run({ app, args }) {
    const o = dnsOptions(app);
    const tlds = Object.keys(o.local_domains);
    if (tlds.length === 0) throw new SecurelyError("no local-dev domains configured", { code: "DNS_NO_LOCAL_DOMAINS", hint: "add e.g. `dns: { local_domains: { test: 127.0.0.1 } }` to the config" });
    const os = (args.os ?? (process.platform === "darwin" ? "macos" : "linux")) as "linux" | "macos";
    if (os !== "linux" && os !== "macos") throw new UsageError(`--os must be linux or macos, got "${args.os}"`);
    const [host, port] = splitHostPort(o.listen[0] ?? "127.0.0.1:5300");
    const plan = setupPlan(os, tlds, host, port);
    if (!args.apply) {
      app.print(plan, (p: SetupPlan) =>
        [
          `# send ${tlds.map((t) => "*." + t).join(", ")} to securely; everything else stays with the system resolver`,
          ...p.files.flatMap((f) => [`sudo mkdir -p ${dirname(f.path)}`, `sudo tee ${f.path} <<'EOF'`, f.content.trimEnd(), "EOF"]),
          ...p.commands.map((c) => `sudo ${c}`),
          "",
          "# undo:",
          ...p.undo,
          "",
          "# or run: securely dns:setup --apply",
        ].join("\n"),
      );
      return 0;
    }
    const written: string[] = [];
    for (const f of plan.files) {
      const path = args.root ? join(args.root, f.path) : f.path;
      try {
        mkdirSync(dirname(path), { recursive: true });
        writeFileSync(path, f.content);
      } catch (e) {
        throw new SecurelyError(`cannot write ${path}: ${(e as Error).message}`, { hint: "run with sudo, or apply the printed steps by hand (securely dns:setup)" });
      }
      written.push(path);
    }
    const ran: string[] = [];
    if (!args.root) {
      for (const c of plan.commands) {
        const p = Bun.spawnSync(c.split(" "), { stdout: "ignore", stderr: "pipe" });
        if (p.exitCode !== 0) throw new SecurelyError(`\`${c}\` failed: ${p.stderr.toString().trim()}`, { hint: "restart the resolver by hand" });
        ran.push(c);
      }
    }
    app.print({ written, ran }, (r) => [...r.written.map((w: string) => `wrote ${w}`), ...r.ran.map((c: string) => `ran ${c}`)].join("\n"));
    return 0;
  },
});
