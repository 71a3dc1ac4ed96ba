/**
 * Domain names inside securely: presentation text without the trailing dot ("www.example.com",
 * root = ""), compared in lower case (RFC 4343) but echoed in the case the client sent.
 */

/** Canonical key of a name: lower case, no trailing dot. */
export function canonical(name: string): string {
  let n = name.endsWith(".") ? name.slice(0, -1) : name;
  if (n === ".") n = "";
  return n.toLowerCase();
}

/** Absolute presentation form with the trailing dot ("example.com." / "."). */
export function absolute(name: string): string {
  return name === "" || name === "." ? "." : name.endsWith(".") ? name : name + ".";
}

/** Parent of a canonical name ("a.b" → "b", "b" → "", "" → undefined). */
export function parent(name: string): string | undefined {
  if (name === "") return undefined;
  const i = name.indexOf(".");
  return i < 0 ? "" : name.slice(i + 1);
}

/** True when `name` equals `zone` or lies below it (both canonical). */
export function isSubdomain(name: string, zone: string): boolean {
  if (zone === "") return true;
  return name === zone || (name.length > zone.length && name.endsWith(zone) && name[name.length - zone.length - 1] === ".");
}

/** Join a relative name onto an origin ("www" + "example.com"); "@" is the origin itself. */
export function resolveName(name: string, origin: string): string {
  if (name === "@") return origin;
  if (name.endsWith(".")) return name === "." ? "" : name.slice(0, -1);
  return origin === "" ? name : `${name}.${origin}`;
}

/** Validate a name's shape (RFC 1035 §2.3.4): labels 1–63 octets, 255 octets in total. */
export function nameError(name: string): string | undefined {
  if (name === "") return undefined;
  if (name.length > 253) return "is longer than 253 characters";
  for (const label of name.split(".")) {
    if (label.length === 0) return "has an empty label";
    if (label.length > 63) return `has a label longer than 63 characters ("${label.slice(0, 20)}…")`;
  }
  return undefined;
}
