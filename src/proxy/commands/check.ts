import { defineCommand } from "../../core/module.ts";
import { cacheLimiter } from "../filters/shared-rate-limit.ts";
import { ProxyHandler } from "../handler.ts";
import { ProxyRuntime } from "../service.ts";
import type { ProxyConfig } from "../types.ts";

export const checkCommand = defineCommand({
  name: "proxy:check",
  description: "Validate the proxy section: schema, upstream addresses, certificate and hooks files",
  async run({ app }) {
    const cfg = app.config.get<ProxyConfig>("proxy");
    const rt = new ProxyRuntime(app, cfg);
    const handler = await ProxyHandler.create(cfg, rt.upstreams, rt.pool, app.log, (p) => app.resolvePath(p), { limiterFor: (store, where) => cacheLimiter(app, store, where) });
    handler.close();
    const summary = { ok: true, listeners: cfg.listen.map((l) => l.addr), routes: cfg.routes.length, upstreams: Object.keys(cfg.upstreams) };
    app.print(summary, (s) => `proxy config OK: ${s.listeners.length} listener(s), ${s.routes} route(s), ${s.upstreams.length} upstream(s)`);
  },
});
