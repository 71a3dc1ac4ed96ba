import type { Database } from "bun:sqlite";

/**
 * One schema step of one namespace. Versions are per namespace, start at 1 and only grow;
 * tables are prefixed `<namespace>_` so a namespace never touches another's tables.
 */
export interface Migration {
  namespace: string;
  version: number;
  description: string;
  up: string | ((db: Database) => void);
}
