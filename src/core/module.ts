/**
 * The contract between the composition root (src/main.ts) and each namespace.
 * A namespace's index.ts exports one `Module`; main.ts lists them. Nothing else is shared.
 */
import type { ArgsDef, ParsedArgs } from "citty";
import type { App } from "./app.ts";
import type { Migration } from "./store/migrations.ts";
import type { Schema } from "./config/schema.ts";
import type { Service } from "./server/service.ts";

export interface CommandContext<A extends ArgsDef = ArgsDef> {
  /** Parsed flags and positionals (citty), global flags removed. */
  args: ParsedArgs<A>;
  /** Everything after a literal `--` (for `settings:run -- CMD ARGS`). */
  rest: string[];
  /** Config, store, logger, output — opened lazily so `--help` and `version` stay instant. */
  app: App;
}

export interface CommandDef<A extends ArgsDef = ArgsDef> {
  /** Full name with namespace, e.g. "dns:record:add". */
  name: string;
  description: string;
  args?: A;
  /** The last positional takes any number of words (the command reads args._); without this, extra words are a usage error. */
  variadic?: boolean;
  /** Return an exit code (default 0). Throw SecurelyError for user-facing failures. */
  run(ctx: CommandContext<A>): number | void | Promise<number | void>;
}

export function defineCommand<const A extends ArgsDef>(def: CommandDef<A>): CommandDef<A> {
  return def;
}

export interface Module {
  /** Namespace name, also the config section it owns ("dns" owns `dns:` in the YAML). */
  name: string;
  description: string;
  commands: CommandDef<any>[];
  /** Config sections this module validates, keyed by top-level YAML key. */
  config?: Record<string, Schema>;
  /** Store migrations; tables must be prefixed `<name>_`. */
  migrations?: Migration[];
  /** Long-running services this config enables (empty when disabled). */
  services?(app: App): Service[] | Promise<Service[]>;
  /** Entries a worker thread can run (core/server/threads.ts), keyed by name: "io" → thread "dns.io". */
  threads?: Record<string, (data: any) => void | Promise<void>>;
  /** Exports user code gets from `import { … } from "securely"` (defineWorkflow, defineJob, …). */
  sdk?: Record<string, unknown>;
}

export function defineModule(m: Module): Module {
  return m;
}
