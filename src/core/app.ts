/**
 * What every command and service receives: config, store, logger and output, opened lazily so
 * `--help` and `version` never touch the disk.
 */
import type { ConsolaInstance } from "consola";
import { existsSync } from "node:fs";
import { join, dirname, isAbsolute, resolve } from "node:path";
import { systemClock, type Clock } from "./clock.ts";
import { loadConfig, type Config } from "./config/load.ts";
import { createLogger } from "./log/logger.ts";
import type { Module } from "./module.ts";
import { printData } from "./cli/output.ts";
import { Store } from "./store/store.ts";

/** Functions one namespace offers another without an import edge; wired by src/main.ts. */
export interface Provided {
  /** Read a setting (decrypting secrets) for `${NAME}` interpolation in config. */
  lookupSetting?(app: App, name: string): string | undefined;
  [name: string]: unknown;
}

export interface AppOptions {
  modules: Module[];
  /** -c/--conf; undefined → ./securely.config.yaml then /etc/securely/securely.config.yaml. */
  configPath?: string;
  json?: boolean;
  logLevel?: string;
  env?: Record<string, string | undefined>;
  clock?: Clock;
  provided?: Provided;
  cwd?: string;
}

export const DEFAULT_CONFIG_PATHS = ["securely.config.yaml", "/etc/securely/securely.config.yaml"];

export class App {
  readonly modules: Module[];
  readonly json: boolean;
  readonly env: Record<string, string | undefined>;
  readonly clock: Clock;
  readonly log: ConsolaInstance;
  readonly provided: Provided;
  readonly cwd: string;
  readonly configPath: string | undefined;
  private _config?: Config;
  private _store?: Store;

  constructor(opts: AppOptions) {
    this.modules = opts.modules;
    this.env = opts.env ?? process.env;
    this.json = opts.json ?? false;
    this.clock = opts.clock ?? systemClock;
    this.provided = opts.provided ?? {};
    this.cwd = opts.cwd ?? process.cwd();
    this.log = createLogger(opts.logLevel ?? this.env.SECURELY_LOG_LEVEL);
    const explicit = opts.configPath ?? this.env.SECURELY_CONF;
    if (explicit) this.configPath = resolve(this.cwd, explicit);
    else this.configPath = DEFAULT_CONFIG_PATHS.map((p) => resolve(this.cwd, p)).find((p) => existsSync(p));
  }

  /** The validated config (defaults applied). Throws ConfigError listing every problem. */
  get config(): Config {
    this._config ??= loadConfig({
      path: this.configPath,
      explicit: Boolean(this.env.SECURELY_CONF) || undefined,
      modules: this.modules,
      env: this.env,
      lookupSetting: this.provided.lookupSetting ? (n) => this.provided.lookupSetting!(this, n) : undefined,
    });
    return this._config;
  }

  /** Replace the config (SIGHUP reload validated a new one). */
  setConfig(c: Config): void {
    this._config = c;
  }

  /** Folder relative paths in the config are resolved against: the config file's folder. */
  get baseDir(): string {
    return this.configPath ? dirname(this.configPath) : this.cwd;
  }

  resolvePath(p: string): string {
    return isAbsolute(p) ? p : join(this.baseDir, p);
  }

  /** Path of the store file; settings need it before config is loadable (bootstrap). */
  get storePath(): string {
    const fromEnv = this.env.SECURELY_STORE__PATH ?? this.env.SECURELY_STORE;
    if (fromEnv) return fromEnv === ":memory:" ? fromEnv : resolve(this.cwd, fromEnv);
    return this.resolvePath(this.config.get<string>("store.path"));
  }

  store(): Store {
    this._store ??= new Store({
      path: this.storePath,
      busyTimeoutMs: this._config?.get<number>("store.busy_timeout_ms"),
      migrations: this.modules.flatMap((m) => m.migrations ?? []),
    });
    return this._store;
  }

  /** Print data for scripts: JSON with --json, else the human rendering (default: YAML-ish). */
  print(data: unknown, human?: (data: any) => string | void): void {
    printData(data, this.json, human);
  }

  close(): void {
    this._store?.close();
    this._store = undefined;
  }
}
