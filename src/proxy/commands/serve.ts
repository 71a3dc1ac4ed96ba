import { defineCommand } from "../../core/module.ts";
import { SecurelyError } from "../../core/errors.ts";
import { SERVE_ARGS, serveServices } from "../../core/server/index.ts";
import { proxyServices } from "../service.ts";

export const serveCommand = defineCommand({
  name: "proxy:serve",
  description: "Run the reverse proxy (with its health checks and the metrics listener) until SIGINT/SIGTERM",
  args: { ...SERVE_ARGS },
  async run({ app, args }) {
    // proxy:serve means "run the proxy": the section's enabled flag is for `securely serve`
    const services = proxyServices(app, true);
    if (services.length === 0) throw new SecurelyError("proxy: nothing to serve", { hint: "add a proxy: section with listen and routes" });
    return serveServices(app, services, args);
  },
});
