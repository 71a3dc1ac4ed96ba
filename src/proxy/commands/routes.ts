import { table } from "../../core/cli/output.ts";
import { defineCommand } from "../../core/module.ts";
import type { ProxyConfig, RouteConfig } from "../types.ts";

function action(r: RouteConfig): string {
  if (r.redirect.to !== undefined) return `redirect ${r.redirect.status} ${r.redirect.to}`;
  if (r.respond.status !== undefined) return `respond ${r.respond.status}`;
  if (r.upstream) return `proxy ${r.upstream}`;
  return "hooks";
}

export const routesCommand = defineCommand({
  name: "proxy:routes",
  description: "List the routes in match order (--json for scripts)",
  run({ app }) {
    const cfg = app.config.get<ProxyConfig>("proxy");
    const rows = cfg.routes.map((r, i) => ({
      name: r.name ?? `route-${i}`,
      host: r.match.host.join(",") || "*",
      path: r.match.path ?? (r.match.path_regex ? `~${r.match.path_regex}` : "/"),
      methods: r.match.methods.join(",") || "*",
      action: action(r),
      filters: [
        r.basic_auth && Object.keys(r.basic_auth.users).length ? "basic_auth" : "",
        r.rate_limit.rate > 0 ? `rate ${r.rate_limit.rate}/${r.rate_limit.per}s${r.rate_limit.scope === "shared" ? " shared" : ""}` : "",
        r.allow.length || r.deny.length ? "ip" : "",
        r.compress.length ? `compress ${r.compress.join("/")}` : "",
        r.hooks ? `hooks ${r.hooks}` : "",
      ].filter(Boolean).join(" "),
    }));
    app.print(rows, (rs) => table(rs));
  },
});
