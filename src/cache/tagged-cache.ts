/**
 * Tagged view (Laravel's TaggedCache over a TagSet): each tag has a random id kept in the store;
 * keys are prefixed with a hash of the ids, so resetting a tag's id orphans every entry under it.
 * Orphans expire on their own TTL (or are removed by `cache:flush`). Works on every driver.
 */
import { createHash, randomBytes } from "node:crypto";
import type { Repository } from "./repository.ts";
import type { CacheValue, Ttl } from "./types.ts";

type Default<T> = T | (() => T);

export const tagKey = (name: string) => `tag:${name}:key`;
export const newTagId = () => randomBytes(9).toString("base64url");

export class TaggedCache {
  constructor(private repo: Repository, readonly names: string[]) {}

  private async namespace(): Promise<string> {
    const store = this.repo.store;
    const ids = await store.many(this.names.map(tagKey));
    const parts: string[] = [];
    for (let i = 0; i < this.names.length; i++) {
      let id = ids[i] as string | undefined;
      if (id === undefined) {
        const fresh = newTagId();
        // add() so two processes creating the same tag agree on one id
        id = (await store.add(tagKey(this.names[i]!), fresh, null)) ? fresh : ((await store.get(tagKey(this.names[i]!))) as string) ?? fresh;
      }
      parts.push(id);
    }
    return "tagged:" + createHash("sha1").update(parts.join("|")).digest("hex") + ":";
  }

  async key(key: string): Promise<string> {
    return (await this.namespace()) + key;
  }

  async get<T = CacheValue>(key: string, fallback?: Default<T>): Promise<T | null> {
    return this.repo.get(await this.key(key), fallback);
  }
  async has(key: string): Promise<boolean> {
    return this.repo.has(await this.key(key));
  }
  async put(key: string, value: CacheValue, ttl?: Ttl): Promise<boolean> {
    return this.repo.put(await this.key(key), value, ttl);
  }
  async add(key: string, value: CacheValue, ttl?: Ttl): Promise<boolean> {
    return this.repo.add(await this.key(key), value, ttl);
  }
  async forever(key: string, value: CacheValue): Promise<boolean> {
    return this.repo.forever(await this.key(key), value);
  }
  async remember<T extends CacheValue>(key: string, ttl: Ttl, fn: () => T | Promise<T>): Promise<T> {
    return this.repo.remember(await this.key(key), ttl, fn);
  }
  async pull<T = CacheValue>(key: string, fallback?: Default<T>): Promise<T | null> {
    return this.repo.pull(await this.key(key), fallback);
  }
  async forget(key: string): Promise<boolean> {
    return this.repo.forget(await this.key(key));
  }
  async increment(key: string, by = 1): Promise<number | false> {
    return this.repo.increment(await this.key(key), by);
  }
  async decrement(key: string, by = 1): Promise<number | false> {
    return this.repo.decrement(await this.key(key), by);
  }
  /** Drop every entry stored under any of these tags. */
  flush(): Promise<void> {
    return this.repo.flushTags(this.names);
  }
}
