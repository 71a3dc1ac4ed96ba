/**
 * Atomic locks (Laravel's Lock): `get()` tries once, `block(seconds)` retries until the wait runs
 * out, `release()` frees it only for its owner. The owner token lets another process finish the
 * job and release it (`restoreLock(name, owner)`), as Laravel's cross-process hand-off does.
 */
import { randomBytes } from "node:crypto";
import type { Clock } from "../core/clock.ts";
import { CacheError } from "./errors.ts";
import type { CacheStore } from "./types.ts";

export class Lock {
  /** This lock's owner token: random unless restored. */
  readonly ownerToken: string;

  constructor(
    private store: CacheStore,
    readonly name: string,
    /** Lifetime once acquired, in seconds; 0 keeps it until released. */
    readonly seconds: number,
    owner: string | undefined,
    private clock: Clock,
    private pollMs = 250,
  ) {
    this.ownerToken = owner ?? randomBytes(12).toString("base64url");
  }

  private expiresAt(): number | null {
    return this.seconds > 0 ? this.clock.now() + this.seconds * 1000 : null;
  }

  /** Try once. With `fn`: run it while holding the lock, release after, and return its result (false if not acquired). */
  async get(): Promise<boolean>;
  async get<T>(fn: () => T | Promise<T>): Promise<T | false>;
  async get<T>(fn?: () => T | Promise<T>): Promise<boolean | T> {
    const acquired = await this.store.acquireLock(this.name, this.ownerToken, this.expiresAt());
    if (!acquired || !fn) return acquired;
    try {
      return await fn();
    } finally {
      await this.release();
    }
  }

  /** Retry every poll interval for up to `waitSeconds`; throws CACHE_LOCK_TIMEOUT when it never frees. */
  async block(waitSeconds: number): Promise<true>;
  async block<T>(waitSeconds: number, fn: () => T | Promise<T>): Promise<T>;
  async block<T>(waitSeconds: number, fn?: () => T | Promise<T>): Promise<true | T> {
    // the wait uses real time even under a frozen clock: it measures how long *we* waited
    const deadline = Date.now() + waitSeconds * 1000;
    while (!(await this.store.acquireLock(this.name, this.ownerToken, this.expiresAt()))) {
      if (Date.now() + this.pollMs > deadline) throw CacheError.lockTimeout(this.name, waitSeconds);
      await Bun.sleep(this.pollMs);
    }
    if (!fn) return true;
    try {
      return await fn();
    } finally {
      await this.release();
    }
  }

  /** Release if we still own it; false when it expired or someone force-released it. */
  release(): Promise<boolean> {
    return this.store.releaseLock(this.name, this.ownerToken);
  }

  /** Release whoever owns it. */
  forceRelease(): Promise<void> {
    return this.store.forceReleaseLock(this.name);
  }

  /** The current holder's owner token, if any. */
  owner(): Promise<string | undefined> {
    return this.store.lockOwner(this.name);
  }

  async isOwnedByCurrentProcess(): Promise<boolean> {
    return (await this.owner()) === this.ownerToken;
  }

  async isLocked(): Promise<boolean> {
    return (await this.owner()) !== undefined;
  }

  /** Extend to `seconds` from now (default: the lock's own length); false if we no longer hold it. */
  refresh(seconds = this.seconds): Promise<boolean> {
    return this.store.refreshLock(this.name, this.ownerToken, seconds > 0 ? this.clock.now() + seconds * 1000 : null);
  }
}
