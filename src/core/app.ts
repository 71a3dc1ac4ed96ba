/**
 * What every command and service receives: config, store, logger and output, opened lazily so
 * `--help` and `version` never touch the disk.
 */
import type { ConsolaInstance } from "consola";
import { existsSync, readFileSync } from "node:fs";
import { join, dirname, isAbsolute, resolve } from "node:path";
import { systemClock, type Clock } from "./clock.ts";
import { parse as parseYaml } from "yaml";
import { envOverrides, loadConfig, type Config } from "./config/load.ts";
import { interpolate, type LookupResult } from "./config/interpolate.ts";
import { createLogger } from "./log/logger.ts";
import type { Module } from "./module.ts";
import { printData } from "./cli/output.ts";
import { SecurelyError } from "./errors.ts";
import { Store } from "./store/store.ts";

/** Functions one namespace offers another without an import edge; wired by src/main.ts. */
export interface Provided {
  /** Read a setting (decrypting secrets) for `${NAME}` interpolation in config. */
  lookupSetting?(app: App, name: string): LookupResult;
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

const DEFAULT_STORE_PATH = ".securely/securely.db";

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
  private _raw?: Record<string, any>;

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

  /**
   * A config value needed to reach the store and the app key (store.path, crypto.*), readable
   * before — and without — loading the validated config. `${NAME}` in the config consults settings,
   * which live in the store, whose path is in the config: so until the config is loaded this is the
   * raw YAML value with SECURELY_A__B overrides and env-only `${NAME}`, unvalidated (these keys may
   * reference environment variables, not settings). It also lets `settings:set DB_PASSWORD=…` run
   * while the config still fails on the very `${DB_PASSWORD}` being set.
   */
  bootstrapValue<T = unknown>(path: string): T | undefined {
    if (this._config) return this._config.get<T>(path);
    let cur: any = this.rawConfig();
    for (const part of path.split(".")) cur = cur && typeof cur === "object" ? cur[part] : undefined;
    if (typeof cur === "string" && cur.includes("${")) {
      const missing: { name: string }[] = [];
      cur = interpolate(cur, [(n) => this.env[n]], missing);
      if (missing.length > 0) {
        throw new SecurelyError(`${path} uses \${${missing[0]!.name}}, which is not set in the environment`, {
          code: "E_CONFIG",
          hint: `${path} is read before settings are available, so it may reference environment variables only (or write \${${missing[0]!.name}:-default})`,
        });
      }
    }
    return cur as T | undefined;
  }

  private rawConfig(): Record<string, any> {
    if (this._raw) return this._raw;
    let raw: Record<string, any> = {};
    // an explicit -c/SECURELY_CONF that is missing must not fall back to the default store path
    if (this.configPath && !existsSync(this.configPath)) void this.config;
    try {
      if (this.configPath && existsSync(this.configPath)) raw = (parseYaml(readFileSync(this.configPath, "utf8")) as Record<string, any>) ?? {};
    } catch {
      raw = [] as any;
    }
    if (typeof raw !== "object" || Array.isArray(raw)) {
      // unreadable YAML: guessing the default store path would write settings to the wrong store,
      // so let the loader fail with its file:line message (it throws before any ${NAME} lookup)
      void this.config;
      raw = {};
    }
    for (const [path, value] of envOverrides(this.env)) {
      let cur = raw;
      for (const p of path.slice(0, -1)) cur = cur[p] = typeof cur[p] === "object" && cur[p] !== null ? cur[p] : {};
      cur[path[path.length - 1]!] = value;
    }
    this._raw = raw;
    return raw;
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

  /** Path of the store file; readable before the config loads (see bootstrapValue). */
  get storePath(): string {
    const fromEnv = this.env.SECURELY_STORE__PATH;
    if (fromEnv) return fromEnv === ":memory:" ? fromEnv : resolve(this.cwd, fromEnv);
    return this.resolvePath(String(this.bootstrapValue<string>("store.path") ?? DEFAULT_STORE_PATH));
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
