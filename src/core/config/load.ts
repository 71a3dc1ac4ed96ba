/**
 * Load the YAML config: parse with line numbers, apply SECURELY_A__B overrides, interpolate
 * ${NAME}, validate every section (core + each module's schema) and report all problems at once,
 * each as `file:line key.path: expected …, got …`.
 */
import { existsSync, readFileSync } from "node:fs";
import { basename } from "node:path";
import { LineCounter, parse as parseYaml, parseDocument, isMap, isSeq } from "yaml";
import { SecurelyError } from "../errors.ts";
import type { Module } from "../module.ts";
import { interpolateDeep, type Lookup } from "./interpolate.ts";
import { applySchema, formatPath, obj, type Schema, type SchemaIssue } from "./schema.ts";
import { coreSections, serverKeys } from "./server-keys.ts";

export interface ConfigProblem {
  file: string;
  line?: number;
  path: string;
  message: string;
}

export class ConfigError extends SecurelyError {
  constructor(readonly problems: ConfigProblem[]) {
    super(problems.map(formatProblem).join("\n"), { code: "E_CONFIG" });
    this.name = "ConfigError";
  }
}

export function formatProblem(p: ConfigProblem): string {
  const where = p.line ? `${p.file}:${p.line}` : p.file;
  return p.path ? `${where} ${p.path}: ${p.message}` : `${where}: ${p.message}`;
}

export interface LoadOptions {
  path: string | undefined;
  explicit?: boolean;
  modules: Module[];
  env: Record<string, string | undefined>;
  lookupSetting?: Lookup;
  /** Parse this text instead of reading `path` (config:check of a candidate, tests). */
  text?: string;
}

export class Config {
  constructor(
    readonly data: Record<string, any>,
    readonly file: string | undefined,
    private readonly schema: Schema,
    /** Key paths whose value came from a secret setting through ${NAME}: masked like schema secrets. */
    private readonly secretPaths: ReadonlySet<string> = new Set(),
  ) {}

  get<T = unknown>(path: string): T {
    let cur: any = this.data;
    for (const part of path.split(".")) {
      if (cur === undefined || cur === null) return undefined as T;
      cur = cur[part];
    }
    return cur as T;
  }

  /** The resolved config with every secret-marked key replaced by "********". */
  masked(): Record<string, any> {
    const out = mask(this.data, this.schema) as Record<string, any>;
    for (const p of this.secretPaths) setPath(out, p.split("\u0000"), "********");
    return out;
  }
}

function setPath(target: any, path: string[], value: unknown): void {
  let cur = target;
  for (const p of path.slice(0, -1)) {
    if (cur === null || typeof cur !== "object") return;
    cur = cur[p];
  }
  if (cur && typeof cur === "object" && path[path.length - 1]! in cur) cur[path[path.length - 1]!] = value;
}

function mask(value: unknown, schema: Schema | undefined): unknown {
  if (!schema) return value;
  if (schema.secret && value !== undefined && value !== null && value !== "") return "********";
  if (schema.kind === "object" && value && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = mask(v, schema.fields[k]);
    return out;
  }
  if (schema.kind === "map" && value && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, mask(v, schema.of)]));
  }
  if (schema.kind === "list" && Array.isArray(value)) return value.map((v) => mask(v, schema.of));
  return value;
}

export function rootSchema(modules: Module[]): Schema {
  const sections: Record<string, Schema> = { ...coreSections };
  for (const m of modules) Object.assign(sections, m.config ?? {});
  return obj({ ...serverKeys, ...sections }, { open: true });
}

/** SECURELY_PROXY__THREADS=4 → { proxy: { threads: 4 } } (the value parsed as a YAML scalar). */
export function envOverrides(env: Record<string, string | undefined>): Array<[string[], unknown]> {
  const out: Array<[string[], unknown]> = [];
  for (const [k, v] of Object.entries(env)) {
    if (!k.startsWith("SECURELY_") || !k.includes("__") || v === undefined) continue;
    const path = k.slice("SECURELY_".length).toLowerCase().split("__").filter(Boolean);
    if (path.length === 0) continue;
    let parsed: unknown = v;
    try {
      parsed = parseYaml(v);
    } catch {
      parsed = v;
    }
    out.push([path, parsed ?? v]);
  }
  return out;
}

export function loadConfig(opts: LoadOptions): Config {
  const file = opts.path ?? "(defaults)";
  const shortFile = opts.path ? basename(opts.path) : file;
  const problems: ConfigProblem[] = [];
  let data: Record<string, any> = {};
  const lines = new LineCounter();
  let doc: ReturnType<typeof parseDocument> | undefined;

  let text = opts.text;
  if (text === undefined && opts.path) {
    if (!existsSync(opts.path)) {
      throw new ConfigError([{ file: opts.path, path: "", message: "config file not found — pass -c FILE or create securely.config.yaml" }]);
    }
    try {
      text = readFileSync(opts.path, "utf8");
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      throw new ConfigError([{ file: opts.path, path: "", message: `cannot read the config file (${code === "EISDIR" ? "it is a folder" : (code ?? (err as Error).message)}) — pass -c FILE with a readable YAML file` }]);
    }
  }
  if (text !== undefined) {
    doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
    if (doc.errors.length > 0) {
      throw new ConfigError(
        doc.errors.map((e) => ({
          file: shortFile,
          line: e.linePos?.[0]?.line ?? lines.linePos(e.pos[0]).line,
          path: "",
          message: `invalid YAML: ${e.message.split("\n")[0]}`,
        })),
      );
    }
    const js = doc.toJS({ maxAliasCount: 100 });
    if (js !== null && js !== undefined && (typeof js !== "object" || Array.isArray(js))) {
      throw new ConfigError([{ file: shortFile, line: 1, path: "", message: "expected a mapping of keys at the top level" }]);
    }
    data = (js ?? {}) as Record<string, any>;
  }

  for (const [path, value] of envOverrides(opts.env)) setIn(data, path, value);

  const lookups: Lookup[] = [(n) => opts.env[n]];
  if (opts.lookupSetting) lookups.push(opts.lookupSetting);
  const lineOf = (path: (string | number)[]): number | undefined => {
    if (!doc) return undefined;
    for (let n = path.length; n >= 0; n--) {
      const node = doc.getIn(path.slice(0, n), true) as { range?: [number, number, number] } | undefined;
      if (node && typeof node === "object" && node.range) return lines.linePos(node.range[0]).line;
      // a key whose value is a mapping/sequence: find the key's own position
      const parent = n > 0 ? (doc.getIn(path.slice(0, n - 1), true) as any) : doc.contents;
      if (n > 0 && (isMap(parent) || isSeq(parent))) {
        const item = isMap(parent) ? (parent.items as any[]).find((it) => String(it.key?.value ?? it.key) === String(path[n - 1])) : undefined;
        if (item?.key?.range) return lines.linePos(item.key.range[0]).line;
      }
    }
    return undefined;
  };

  const secretPaths = new Set<string>();
  data = interpolateDeep(
    data,
    lookups,
    (path, name) =>
      problems.push({ file: shortFile, line: lineOf(path), path: formatPath(path), message: `\${${name}} is not set in the environment or settings and has no default (write \${${name}:-value})` }),
    [],
    (path) => secretPaths.add(path.join("\u0000")),
  ) as Record<string, any>;

  const schema = rootSchema(opts.modules);
  const issues: SchemaIssue[] = [];
  const validated = applySchema(schema, data, [], issues) as Record<string, any>;
  for (const i of issues) {
    // never echo a secret's value in an error ("got …")
    const message = secretPaths.has(i.path.join("\u0000")) ? i.message.replace(/, got .*$/s, ", got (a secret setting's value)") : i.message;
    problems.push({ file: shortFile, line: lineOf(i.path), path: formatPath(i.path), message });
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return new Config(validated, opts.path, schema, secretPaths);
}

function setIn(target: Record<string, any>, path: string[], value: unknown): void {
  let cur = target;
  for (const p of path.slice(0, -1)) {
    if (typeof cur[p] !== "object" || cur[p] === null) cur[p] = {};
    cur = cur[p];
  }
  cur[path[path.length - 1]!] = value;
}
