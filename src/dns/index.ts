import { defineModule } from "../core/module.ts";

export const dnsModule = defineModule({ name: "dns", description: "authoritative and forwarding DNS server", commands: [] });
