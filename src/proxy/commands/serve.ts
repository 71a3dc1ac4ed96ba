import { defineCommand } from "../../core/module.ts";
import { SecurelyError } from "../../core/errors.ts";
import { runUntilSignal } from "../../core/server/run-services.ts";
import { metricsService } from "../../core/server/metrics-service.ts";
import type { Service } from "../../core/server/service.ts";
import { proxyServices } from "../service.ts";

export const serveCommand = defineCommand({
  name: "proxy:serve",
  description: "Run the reverse proxy (and its health checks and the metrics listener) until SIGINT/SIGTERM",
  async run({ app }) {
    const cfg = app.config.get<{ enabled: boolean }>("proxy");
    // proxy:serve means "run the proxy": the section's enabled flag is for `securely serve`
    const services: Service[] = proxyServices(app, true);
    if (services.length === 0 || !cfg) throw new SecurelyError("proxy: nothing to serve", { hint: "add a proxy: section with listen and routes" });
    if (app.config.get<boolean>("metrics.enabled")) services.push(metricsService(app, () => services));
    return runUntilSignal(app, services);
  },
});
