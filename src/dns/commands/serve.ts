import { defineCommand } from "../../core/module.ts";
import { runUntilSignal } from "../../core/server/run-services.ts";
import { DnsService } from "../service.ts";

export const serveCommand = defineCommand({
  name: "dns:serve",
  description: "Run only the DNS server (authoritative zones, forwarding, local-dev domains) until SIGINT/SIGTERM",
  async run({ app }) {
    app.store(); // migrations before the service reads its tables
    return runUntilSignal(app, [new DnsService(app)]);
  },
});
