import { defineModule } from "../core/module.ts";

export const scheduleModule = defineModule({ name: "schedule", description: "cron-style scheduler", commands: [] });
