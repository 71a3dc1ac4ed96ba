/** Built-in activities every worker has; user activities with the same name take precedence. */
import type { ActivityDefinition } from "../types.ts";
import { httpActivity } from "./http.ts";
import { shellActivity } from "./shell.ts";

export const builtinActivities: Record<string, ActivityDefinition> = {
  "securely.shell": shellActivity,
  "securely.http": httpActivity,
};
