export { Config, ConfigError, loadConfig, formatProblem, rootSchema } from "./load.ts";
export type { ConfigProblem } from "./load.ts";
export { val, obj, map, list, applySchema, formatPath, closest } from "./schema.ts";
export type { Schema } from "./schema.ts";
export { parseDuration } from "../validation/rules.ts";
