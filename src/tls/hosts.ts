/**
 * Host names a certificate may cover. DNS names follow RFC 1123 labels (underscores allowed, as
 * Pingora's tests use them); a wildcard is only a whole left-most label (`*.app.test`, RFC 6125
 * §6.4.3); IP addresses are IPv4 or IPv6 literals. Everything is lower-cased, trailing dots dropped.
 */
import { isIP } from "node:net";
import { TlsError } from "./errors.ts";

const LABEL = /^[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?$/;

export function normalizeHost(raw: string): string {
  const input = String(raw).trim();
  if (!input) throw TlsError.invalidHost(raw, "empty");
  const bracketed = /^\[(.+)\]$/.exec(input);
  const ipText = bracketed ? bracketed[1]! : input;
  if (isIP(ipText)) return isIP(ipText) === 6 ? canonicalV6(ipText) : ipText;
  if (/\s/.test(input)) throw TlsError.invalidHost(raw, "contains whitespace");
  if (/[/:@?#]/.test(input)) throw TlsError.invalidHost(raw, "looks like a URL or host:port; give the bare host name");
  const host = input.toLowerCase().replace(/\.$/, "");
  if (host.length > 253) throw TlsError.invalidHost(raw, "longer than 253 characters");
  const labels = host.split(".");
  labels.forEach((label, i) => {
    if (label === "*") {
      if (i !== 0) throw TlsError.invalidHost(raw, "a wildcard must be the whole left-most label, as in *.app.test");
      if (labels.length < 2) throw TlsError.invalidHost(raw, "a bare * matches nothing; write *.app.test");
      return;
    }
    if (label.includes("*")) throw TlsError.invalidHost(raw, "a wildcard must be the whole left-most label, as in *.app.test");
    if (!label) throw TlsError.invalidHost(raw, "empty label (two dots in a row, or a leading dot)");
    if (label.length > 63) throw TlsError.invalidHost(raw, `label '${label.slice(0, 20)}…' is longer than 63 characters`);
    if (!LABEL.test(label)) throw TlsError.invalidHost(raw, `label '${label}' may hold only letters, digits, '-' and '_', and not start or end with '-'`);
  });
  if (/^[0-9.]+$/.test(host)) throw TlsError.invalidHost(raw, "not a valid IPv4 address");
  return host;
}

/** Normalise, drop duplicates, keep the order given (the first host becomes the subject CN). */
export function normalizeHosts(raw: string[]): string[] {
  if (raw.length === 0) throw TlsError.noHosts();
  return [...new Set(raw.map(normalizeHost))];
}

/** True when a wildcard sits right above a single-label name (`*.test`): OpenSSL and browsers refuse those matches. */
export function isSecondLevelWildcard(host: string): boolean {
  return host.startsWith("*.") && host.split(".").length === 2;
}

/** A stable key for "the same set of hosts", whatever the order. */
export function hostsKey(hosts: string[]): string {
  return [...hosts].sort().join(",");
}

/** File-name form of a host (mkcert style): `*.app.test` → `_wildcard.app.test`, `::1` → `__1`. */
export function fileSafe(host: string): string {
  return host.replace(/^\*/, "_wildcard").replace(/[:%]/g, "_");
}

function canonicalV6(ip: string): string {
  // the URL parser gives the RFC 5952 canonical form (compressed, lower-case)
  return new URL(`http://[${ip}]/`).hostname.slice(1, -1);
}
