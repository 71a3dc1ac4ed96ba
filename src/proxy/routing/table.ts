/**
 * The route table, compiled once at start: each route becomes a host matcher plus a predicate over
 * path, method, headers, query and client IP. Routes are tried in config order; the candidates for
 * a Host value are computed once and cached (bounded), so the per-request work is the remaining
 * predicates of a short list.
 */
import { CidrSet } from "../filters/ip-filter.ts";
import type { RouteConfig } from "../types.ts";
import { compileHosts, normalizeHost, type HostMatcher } from "./host.ts";

/**
 * What the pipeline reads of the request's headers: a Bun `Headers`, or the raw front's parsed head
 * (listen/request-head.ts). Names are looked up lower-case.
 */
export interface HeaderSource {
  get(name: string): string | null;
  forEach(cb: (value: string, name: string) => void): void;
}

export interface RequestFacts {
  method: string;
  host: string;
  path: string;
  /** Raw query string without '?', "" when none. */
  query: string;
  headers: HeaderSource;
  clientIp: string;
}

export interface CompiledRoute<Extra = unknown> {
  index: number;
  name: string;
  cfg: RouteConfig;
  host?: HostMatcher;
  test(f: RequestFacts): boolean;
  extra: Extra;
}

type ValueTest = (v: string | null) => boolean;

/** Every test passes (a loop, not every(): no closure per request). */
function allPass(tests: Array<(f: RequestFacts) => boolean>, f: RequestFacts): boolean {
  for (const t of tests) if (!t(f)) return false;
  return true;
}

function valueTest(spec: string): ValueTest {
  if (spec === "*") return (v) => v !== null;
  const m = /^\/(.*)\/([a-z]*)$/.exec(spec);
  if (m) {
    const re = new RegExp(m[1]!, m[2]);
    return (v) => v !== null && re.test(v);
  }
  return (v) => v === spec;
}

export function compileRoute<E>(cfg: RouteConfig, index: number, extra: E): CompiledRoute<E> {
  const m = cfg.match;
  const tests: Array<(f: RequestFacts) => boolean> = [];
  if (m.path !== undefined) {
    const prefix = m.path.endsWith("/") && m.path.length > 1 ? m.path.slice(0, -1) : m.path;
    // "/api" matches /api, /api/, /api/x — never /apix
    if (prefix === "/") tests.push(() => true);
    else tests.push((f) => f.path.startsWith(prefix) && (f.path.length === prefix.length || f.path[prefix.length] === "/"));
  }
  if (m.path_regex !== undefined) {
    const re = new RegExp(m.path_regex);
    tests.push((f) => re.test(f.path));
  }
  if (m.methods.length > 0) {
    const set = new Set(m.methods.map((x) => x.toUpperCase()));
    tests.push((f) => set.has(f.method));
  }
  for (const [name, spec] of Object.entries(m.headers)) {
    const t = valueTest(spec);
    tests.push((f) => t(f.headers.get(name)));
  }
  const q = Object.entries(m.query).map(([k, spec]) => [k, valueTest(spec)] as const);
  if (q.length > 0) tests.push((f) => {
    const params = new URLSearchParams(f.query);
    return q.every(([k, t]) => t(params.get(k)));
  });
  if (m.client_ip.length > 0) {
    const set = new CidrSet(m.client_ip);
    tests.push((f) => set.has(f.clientIp));
  }
  return {
    index,
    name: cfg.name ?? `route-${index}`,
    cfg,
    host: compileHosts(m.host),
    test: tests.length === 0 ? () => true : (f) => allPass(tests, f),
    extra,
  };
}

export class RouteTable<E> {
  private byHost = new Map<string, CompiledRoute<E>[]>();
  constructor(readonly routes: CompiledRoute<E>[]) {}

  /** First route whose conditions all hold, or undefined (→ 404). */
  find(f: RequestFacts): CompiledRoute<E> | undefined {
    const candidates = this.byHost.get(f.host) ?? this.candidatesFor(f.host);
    for (const r of candidates) if (r.test(f)) return r;
    return undefined;
  }

  /** The routes a host may match, remembered (apart from find: its closure would give every lookup a scope object). */
  private candidatesFor(host: string): CompiledRoute<E>[] {
    const candidates = this.routes.filter((r) => !r.host || r.host(host));
    // hostile clients can send endless Host values: keep the cache bounded
    if (this.byHost.size >= 4096) this.byHost.clear();
    this.byHost.set(host, candidates);
    return candidates;
  }
}

export { normalizeHost };
