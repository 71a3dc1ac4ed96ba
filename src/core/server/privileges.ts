/**
 * Pingora's `user` / `group`: bind privileged ports as root, then drop to an unprivileged
 * account. Group first (setgid needs root), then supplementary groups, then the user. A user
 * without a group gets the user's primary group from /etc/passwd, so no root gid is left behind.
 */
import { chownSync, readFileSync } from "node:fs";
import { SecurelyError } from "../errors.ts";

function lookup(file: string, name: string): string[] | undefined {
  try {
    for (const line of readFileSync(file, "utf8").split("\n")) {
      const f = line.split(":");
      if (f[0] === name || f[2] === name) return f;
    }
  } catch {
    // no passwd/group file
  }
  return undefined;
}

function primaryGid(user: string): number | undefined {
  const f = lookup("/etc/passwd", user);
  return f ? Number(f[3]) : undefined;
}

/**
 * Hand files this process keeps writing (pid and status files) to the account it is about to
 * become, so it can still update and remove them. Best effort: unknown names are left to
 * dropPrivileges to report.
 */
export function chownForDrop(paths: string[], user: string | undefined, group: string | undefined): void {
  if (!user && !group) return;
  const uid = user ? Number(lookup("/etc/passwd", user)?.[2] ?? NaN) : -1;
  const gid = group ? Number(lookup("/etc/group", group)?.[2] ?? NaN) : user ? (primaryGid(user) ?? -1) : -1;
  if (Number.isNaN(uid) || Number.isNaN(gid)) return;
  for (const p of paths) {
    try {
      chownSync(p, uid, gid);
    } catch {
      // not there or not ours: the status file is best effort anyway
    }
  }
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
      // replace root's supplementary groups (which include gid 0) with the user's own
      const p = process as { initgroups?: (user: string, gid: number) => void; setgroups?: (groups: number[]) => void };
      if (typeof p.initgroups === "function") p.initgroups(user, process.getgid!());
      else p.setgroups?.([process.getgid!()]);
      process.setuid(user);
    }
  } catch (err) {
    throw new SecurelyError(`cannot switch to ${what}: ${(err as Error).message}`, {
      hint: "start securely as root to drop privileges, or remove user/group from the config",
    });
  }
}
