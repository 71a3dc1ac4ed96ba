import { defineModule } from "../core/module.ts";

export const tlsModule = defineModule({ name: "tls", description: "local CA and certificates", commands: [] });
