import { defineModule } from "../core/module.ts";

export const settingsModule = defineModule({ name: "settings", description: "settings and secrets (settings:*, key:*, crypt:*)", commands: [] });
