import { table } from "../../core/cli/output.ts";
import { defineCommand } from "../../core/module.ts";
import { probe } from "../health/active.ts";
import { ProxyRuntime } from "../service.ts";
import type { ProxyConfig } from "../types.ts";

export const upstreamsCommand = defineCommand({
  name: "proxy:upstreams",
  description: "List upstreams and their servers; --check probes each server once (active health check)",
  args: { check: { type: "boolean", description: "Probe every server now and show the result" } },
  async run({ app, args }) {
    const rt = new ProxyRuntime(app, app.config.get<ProxyConfig>("proxy"));
    const rows: Record<string, unknown>[] = [];
    for (const up of rt.upstreams.values()) {
      for (const p of up.peers) {
        const row: Record<string, unknown> = { upstream: up.name, server: p.addr, weight: p.weight, backup: p.backup, balance: up.cfg.balance, tls: Boolean(p.tls) };
        if (args.check) {
          const fail = await probe(p, up);
          row.health = fail === undefined ? "up" : "down";
          if (fail) row.reason = fail;
        }
        rows.push(row);
      }
    }
    app.print(rows, (rs) => table(rs));
    return args.check && rows.some((r) => r.health === "down") ? 1 : 0;
  },
});
