/**
 * The command line: `securely <ns:cmd> [flags]`. A flat table of commands from every module,
 * global flags (-c/--conf, --json, --log-level) accepted anywhere, did-you-mean on typos, exit 2
 * for usage errors, one clear line for every SecurelyError.
 */
import { parseArgs, renderUsage, type ArgsDef } from "citty";
import { App, type Provided } from "../app.ts";
import { closest } from "../config/schema.ts";
import { errorMessage, SecurelyError, UsageError } from "../errors.ts";
import type { CommandDef, Module } from "../module.ts";
import { LOG_LEVELS } from "../log/logger.ts";
import { renderHelp } from "./help.ts";

export const GLOBAL_ARGS = {
  conf: { type: "string", alias: ["c"], description: "Config file (default ./securely.config.yaml, then /etc/securely/securely.config.yaml)" },
  json: { type: "boolean", description: "Print data as JSON" },
  "log-level": { type: "string", description: `Log level: ${LOG_LEVELS.join(", ")}` },
} as const satisfies ArgsDef;

export interface CliOptions {
  modules: Module[];
  version: string;
  provided?: Provided;
  env?: Record<string, string | undefined>;
  cwd?: string;
  /** Called with the App after parsing, before the command runs (main.ts wires cross-module hooks). */
  onApp?: (app: App) => void;
}

interface Globals {
  conf?: string;
  json: boolean;
  logLevel?: string;
  rest: string[];
  argv: string[];
  help: boolean;
}

/** Pull global flags out of argv wherever they appear; everything after `--` is kept verbatim. */
export function splitGlobals(argv: string[], env: Record<string, string | undefined>): Globals {
  const out: Globals = { json: env.SECURELY_JSON === "1" || env.SECURELY_JSON === "true", rest: [], argv: [], help: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === "--") {
      out.rest = argv.slice(i + 1);
      break;
    }
    const [flag, inline] = a.startsWith("--") && a.includes("=") ? [a.slice(0, a.indexOf("=")), a.slice(a.indexOf("=") + 1)] : [a, undefined];
    const take = () => {
      if (inline !== undefined) return inline;
      const v = argv[++i];
      if (v === undefined) throw new UsageError(`${flag} needs a value`);
      return v;
    };
    if (flag === "-c" || flag === "--conf") out.conf = take();
    else if (flag === "--json") out.json = true;
    else if (flag === "--log-level") out.logLevel = take();
    else if (flag === "-h" || flag === "--help") out.help = true;
    else out.argv.push(a);
  }
  out.conf ??= env.SECURELY_CONF;
  out.logLevel ??= env.SECURELY_LOG_LEVEL;
  if (out.logLevel && !LOG_LEVELS.includes(out.logLevel)) throw new UsageError(`unknown log level '${out.logLevel}'`, `use one of ${LOG_LEVELS.join(", ")}`);
  return out;
}

export function commandTable(modules: Module[]): Map<string, CommandDef<any>> {
  const table = new Map<string, CommandDef<any>>();
  for (const m of modules) for (const c of m.commands) table.set(c.name, c);
  return table;
}

/** Aliases Pingora users type: `-t` is config:check, `-d`/`-u` are serve flags. */
function resolveAlias(argv: string[]): string[] {
  if (argv[0] === "-t" || argv[0] === "--test") return ["config:check", ...argv.slice(1)];
  if (argv[0] === "-V" || argv[0] === "--version") return ["version", ...argv.slice(1)];
  return argv;
}

/** Check flags against the command's declared args; citty alone accepts anything. */
function rejectUnknownFlags(cmd: CommandDef<any>, argv: string[]): void {
  const known = new Set<string>();
  for (const [name, def] of Object.entries((cmd.args ?? {}) as ArgsDef)) {
    if (def.type === "positional") continue;
    known.add(name);
    known.add(name.replace(/[A-Z]/g, (c) => "-" + c.toLowerCase()));
    if (def.type === "boolean") known.add("no-" + name);
    const aliases = "alias" in def && def.alias ? (Array.isArray(def.alias) ? def.alias : [def.alias]) : [];
    for (const a of aliases) known.add(a);
  }
  for (const a of argv) {
    if (!a.startsWith("-") || a === "-" || /^-\d/.test(a)) continue;
    const name = a.replace(/^--?/, "").split("=")[0]!;
    if (a.startsWith("--") ? known.has(name) : [...name].every((ch) => known.has(ch))) continue;
    const near = closest(name, [...known]);
    throw new UsageError(`unknown flag '${a}' for ${cmd.name}${near ? ` — did you mean '--${near}'?` : ""}`, `see securely ${cmd.name} --help`);
  }
}

/**
 * Parse the command's arguments once. Positionals are parsed as optional because citty throws a
 * bare Error for a missing one; missing and extra words become usage errors (exit 2) here.
 */
function parseCommandArgs(cmd: CommandDef<any>, rest: string[]): ReturnType<typeof parseArgs> {
  const given = parseArgs(rest, Object.fromEntries(Object.entries((cmd.args ?? {}) as ArgsDef).map(([k, d]) => [k, d.type === "positional" ? { ...d, required: false } : d])) as ArgsDef);
  for (const [name, def] of Object.entries((cmd.args ?? {}) as ArgsDef)) {
    if (def.type === "positional" && def.required && given[name] === undefined && def.default === undefined) {
      throw new UsageError(`${cmd.name}: missing argument <${name.toUpperCase()}>`, `see securely ${cmd.name} --help`);
    }
  }
  // citty drops extra words silently; an unquoted value split by the shell would lose its tail
  const declared = Object.values((cmd.args ?? {}) as ArgsDef).filter((d) => d.type === "positional").length;
  const words = (given._ as unknown[]).map(String);
  if (!cmd.variadic && words.length > declared) {
    const extra = words.slice(declared).map((w) => `'${w}'`).join(" ");
    throw new UsageError(`${cmd.name}: unexpected argument${words.length - declared > 1 ? "s" : ""} ${extra}`, `quote values that contain spaces; see securely ${cmd.name} --help`);
  }
  return given;
}

export async function runCli(argv: string[], opts: CliOptions): Promise<number> {
  const env = opts.env ?? process.env;
  let app: App | undefined;
  try {
    const g = splitGlobals(argv, env);
    const args = resolveAlias(g.argv);
    const table = commandTable(opts.modules);
    const name = args[0];
    if (!name || name === "help") {
      process.stdout.write(renderHelp(opts.modules, opts.version, GLOBAL_ARGS));
      return 0;
    }
    const cmd = table.get(name);
    if (!cmd) {
      const near = closest(name, [...table.keys()]);
      throw new UsageError(`unknown command '${name}'${near ? ` — did you mean '${near}'?` : ""}`, "run securely --help for the list");
    }
    if (g.help) {
      const usage = await renderUsage({ meta: { name: `securely ${cmd.name}`, description: cmd.description }, args: { ...(cmd.args ?? {}), ...GLOBAL_ARGS } });
      // citty colours its usage text; keep pipes and files plain
      process.stdout.write((process.stdout.isTTY ? usage : usage.replace(/\x1b\[[0-9;]*m/g, "")) + "\n");
      return 0;
    }
    const rest = args.slice(1);
    rejectUnknownFlags(cmd, rest);
    const parsed = parseCommandArgs(cmd, rest);
    app = new App({ modules: opts.modules, configPath: g.conf, json: g.json, logLevel: g.logLevel, env, provided: opts.provided, cwd: opts.cwd });
    opts.onApp?.(app);
    const code = await cmd.run({ args: parsed, rest: g.rest, app });
    return typeof code === "number" ? code : 0;
  } catch (err) {
    if (err instanceof SecurelyError) {
      process.stderr.write(`securely: ${err.message}\n`);
      return err.exitCode;
    }
    process.stderr.write(`securely: unexpected error: ${errorMessage(err)}\n`);
    if (env.SECURELY_DEBUG) process.stderr.write(String((err as Error)?.stack) + "\n");
    return 1;
  } finally {
    app?.close();
  }
}
