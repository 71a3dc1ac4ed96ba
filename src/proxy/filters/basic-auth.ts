/**
 * HTTP Basic authentication (RFC 7617). Passwords in the config may be plain text or a hash that
 * Bun.password.verify accepts ($argon2…, $2b$…); plain ones are compared in constant time.
 */
import { timingSafeEqual } from "node:crypto";

export class BasicAuth {
  private cache = new Map<string, boolean>();
  constructor(private readonly users: Record<string, string>, readonly realm: string) {}

  get enabled(): boolean {
    return Object.keys(this.users).length > 0;
  }

  /** True when the Authorization header names a configured user with the right password. */
  async check(header: string | null): Promise<boolean> {
    if (!header || !/^basic /i.test(header)) return false;
    // verified credentials are remembered so a hashed password costs one verify, not one per request
    const hit = this.cache.get(header);
    if (hit !== undefined) return hit;
    let decoded: string;
    try {
      decoded = Buffer.from(header.slice(6).trim(), "base64").toString("utf8");
    } catch {
      return false;
    }
    const i = decoded.indexOf(":");
    if (i < 0) return false;
    const user = decoded.slice(0, i);
    const pass = decoded.slice(i + 1);
    const want = this.users[user];
    let ok = false;
    if (want !== undefined) {
      if (want.startsWith("$")) ok = await Bun.password.verify(pass, want).catch(() => false);
      else {
        const a = Buffer.from(pass);
        const b = Buffer.from(want);
        ok = a.length === b.length && timingSafeEqual(a, b);
      }
    }
    if (this.cache.size > 10_000) this.cache.clear();
    this.cache.set(header, ok);
    return ok;
  }

  challenge(): Response {
    return new Response("authentication required\n", {
      status: 401,
      headers: { "www-authenticate": `Basic realm="${this.realm.replace(/"/g, "")}", charset="UTF-8"`, "content-type": "text/plain; charset=utf-8" },
    });
  }
}
