import { createPrivateKey, X509Certificate } from "node:crypto";
import { readFileSync } from "node:fs";
import type { App } from "../../core/app.ts";
import { SecurelyError } from "../../core/errors.ts";
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
    checkListenerCerts(app, cfg);
    const rt = new ProxyRuntime(app, cfg);
    const handler = await ProxyHandler.create(cfg, rt.upstreams, rt.pool, app.log, (p) => app.resolvePath(p), { limiterFor: (store, where) => cacheLimiter(app, store, where) });
    handler.close();
    const summary = { ok: true, listeners: cfg.listen.map((l) => l.addr), routes: cfg.routes.length, upstreams: Object.keys(cfg.upstreams) };
    app.print(summary, (s) => `proxy config OK: ${s.listeners.length} listener(s), ${s.routes} route(s), ${s.upstreams.length} upstream(s)`);
  },
});

/** serve reads tls.certs only when it listens; check them here so a typo shows before a deploy. */
function checkListenerCerts(app: App, cfg: ProxyConfig): void {
  for (const l of cfg.listen) {
    if (!l.tls?.enabled) continue;
    for (const [i, c] of l.tls.certs.entries()) {
      for (const what of ["cert", "key"] as const) {
        const file = c[what];
        const where = `proxy.listen ${l.addr}: tls.certs[${i}].${what}`;
        if (!file) throw new SecurelyError(`${where} is missing`, { hint: "give a PEM file path" });
        const path = app.resolvePath(file);
        let pem: string;
        try {
          pem = readFileSync(path, "utf8");
        } catch (e) {
          throw new SecurelyError(`${where}: cannot read ${path} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, { hint: "check the path (relative to the config file's folder)" });
        }
        try {
          if (what === "cert") new X509Certificate(pem);
          else createPrivateKey(pem);
        } catch {
          throw new SecurelyError(`${where}: ${path} is not a PEM ${what === "cert" ? "certificate" : "private key"}`, { hint: "securely tls:cert HOST writes a matching pair" });
        }
      }
    }
  }
}
