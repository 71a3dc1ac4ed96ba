/**
 * A throwaway securely project for the settings CLI tests: its own config, store and key file,
 * and a `run` that spawns the real CLI with an environment free of the caller's SECURELY_* keys.
 */
import { setDefaultTimeout } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { runSecurely, tempProject, type RunOptions, type RunResult } from "../harness.ts";

// bunfig.toml's [test] timeout is not applied by bun 1.4.5; these tests spawn several CLI
// processes each, which on a loaded 2-core machine can take longer than bun's 5 s default
setDefaultTimeout(30_000);

export interface SettingsProject {
  dir: string;
  config: string;
  store: string;
  keyFile: string;
  env: Record<string, string | undefined>;
  run(args: string[], opts?: RunOptions): Promise<RunResult>;
  /** run, and fail the test with its stderr unless it exits 0. */
  ok(args: string[], opts?: RunOptions): Promise<string>;
}

export function settingsProject(yaml = ""): SettingsProject {
  const p = tempProject(yaml);
  const env: Record<string, string | undefined> = { ...p.env, SECURELY_KEY: undefined, SECURELY_PREVIOUS_KEYS: undefined, SECURELY_ENV: undefined, SECURELY_CIPHER: undefined, USER: "tester" };
  const run = (args: string[], opts: RunOptions = {}) => runSecurely(args, { ...opts, env: { ...env, ...opts.env } });
  return {
    dir: p.dir,
    config: p.config,
    store: join(p.dir, "store.db"),
    keyFile: join(p.dir, "securely.key"),
    env,
    run,
    async ok(args, opts) {
      const r = await run(args, opts);
      if (r.code !== 0) throw new Error(`securely ${args.join(" ")} exited ${r.code}: ${r.stderr}`);
      return r.stdout;
    },
  };
}

/** Every byte of the store: the database, its WAL and shared-memory files. */
export function storeBytes(store: string): Buffer {
  const parts: Buffer[] = [];
  for (const f of [store, `${store}-wal`, `${store}-shm`]) {
    try {
      parts.push(readFileSync(f));
    } catch {
      // no WAL yet (checkpointed and removed): nothing to search there
    }
  }
  return Buffer.concat(parts);
}
