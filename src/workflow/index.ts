import { defineModule } from "../core/module.ts";

export const workflowModule = defineModule({ name: "workflow", description: "durable workflows on the queue", commands: [] });
