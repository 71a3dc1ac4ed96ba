/**
 * Pingora's `user` / `group`: bind privileged ports as root, then drop to an unprivileged
 * account. Group first (setgid needs root), then supplementary groups, then the user. A user
 * without a group gets the user's primary group from /etc/passwd, so no root gid is left behind.
 */
import { readFileSync } from "node:fs";
import { SecurelyError } from "../errors.ts";

function primaryGid(user: string): number | undefined {
  try {
    for (const line of readFileSync("/etc/passwd", "utf8").split("\n")) {
      const f = line.split(":");
      if (f[0] === user || f[2] === user) return Number(f[3]);
    }
  } catch {
    // no passwd file: leave the group as it is
  }
  return undefined;
}

export function dropPrivileges(user: string | undefined, group: string | undefined): void {
  if (!user && !group) return;
  if (typeof process.setuid !== "function" || typeof process.setgid !== "function") {
    throw new SecurelyError("user/group are set but this platform cannot change the process user", { hint: "remove user/group from the config" });
  }
  const what = [user && `user '${user}'`, group && `group '${group}'`].filter(Boolean).join(" and ");
  try {
    const gid: string | number | undefined = group ?? (user ? primaryGid(user) : undefined);
    if (gid !== undefined) process.setgid(gid);
    if (user) {
      if (typeof process.initgroups === "function") process.initgroups(user, process.getgid!());
      process.setuid(user);
    }
  } catch (err) {
    throw new SecurelyError(`cannot switch to ${what}: ${(err as Error).message}`, {
      hint: "start securely as root to drop privileges, or remove user/group from the config",
    });
  }
}
