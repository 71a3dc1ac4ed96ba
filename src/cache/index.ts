import { defineModule } from "../core/module.ts";

export const cacheModule = defineModule({ name: "cache", description: "cache store with Laravel's Repository API", commands: [] });
