import { defineCommand } from "../../core/module.ts";
import { SERVE_ARGS, serveServices } from "../../core/server/index.ts";
import { DnsService } from "../service.ts";

export const serveCommand = defineCommand({
  name: "dns:serve",
  description: "Run only the DNS server (authoritative zones, forwarding, local-dev domains) until SIGINT/SIGTERM",
  args: { ...SERVE_ARGS },
  async run({ app, args }) {
    app.store(); // migrations before the service reads its tables
    return serveServices(app, [new DnsService(app)], args, { metrics: false });
  },
});
