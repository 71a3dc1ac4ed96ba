export { defineRule, parseDuration, parseRules, validateValue } from "./rules.ts";
export type { RuleFn, ValidationOutcome } from "./rules.ts";
