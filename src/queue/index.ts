import { defineModule } from "../core/module.ts";

export const queueModule = defineModule({ name: "queue", description: "durable job queue and worker", commands: [] });
