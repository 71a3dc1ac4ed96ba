/**
 * @module dns — authoritative zones (files, inline config, the store), forwarding with a cache,
 * and local-dev domains, served over UDP and TCP. The only door other code may use.
 */
import { defineModule } from "../core/module.ts";
import { dnsCommands } from "./commands/index.ts";
import { dnsConfigSchema } from "./config.ts";
import { dnsMigrations } from "./migrations.ts";
import { runIoThread } from "./server/native/thread.ts";
import { DnsService, dnsServices } from "./service.ts";

export const dnsModule = defineModule({
  name: "dns",
  description: "authoritative and forwarding DNS server",
  commands: dnsCommands,
  config: { dns: dnsConfigSchema },
  migrations: dnsMigrations,
  services: (app) => dnsServices(app),
  threads: { io: runIoThread },
});

export { DnsService };
