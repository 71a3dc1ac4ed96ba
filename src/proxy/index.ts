import { defineModule } from "../core/module.ts";

export const proxyModule = defineModule({ name: "proxy", description: "reverse proxy and load balancer", commands: [] });
