/**
 * Host patterns: exact names and wildcards. `*.example.com` matches any name ending in
 * `.example.com` (one label or more, as nginx), not `example.com` itself. Case-insensitive, port ignored.
 */
export type HostMatcher = (host: string) => boolean;

export function normalizeHost(h: string | null): string {
  if (!h) return "";
  // clients repeat their Host: the last answer saves a new string per request (a malloc, measured)
  if (h === lastIn) return lastOut;
  lastIn = h;
  return (lastOut = normalize(h));
}
let lastIn = "";
let lastOut = "";

function normalize(h: string): string {
  let host = h.toLowerCase();
  if (host.startsWith("[")) return host.slice(0, host.indexOf("]") + 1);
  const c = host.lastIndexOf(":");
  if (c >= 0) host = host.slice(0, c);
  return host.endsWith(".") ? host.slice(0, -1) : host;
}

export function compileHosts(patterns: string[]): HostMatcher | undefined {
  if (patterns.length === 0) return undefined;
  const exact = new Set<string>();
  const suffixes: string[] = [];
  for (const p of patterns.map((x) => x.toLowerCase())) {
    if (p.startsWith("*.")) suffixes.push(p.slice(1));
    else exact.add(p);
  }
  return (host) => exact.has(host) || suffixes.some((s) => host.length > s.length && host.endsWith(s));
}
