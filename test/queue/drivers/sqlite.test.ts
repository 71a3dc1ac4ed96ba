import { SqliteQueueDriver } from "../../../src/queue/drivers/sqlite.ts";
import { queueMigrations } from "../../../src/queue/migrations.ts";
import { tempStore } from "../../harness.ts";
import { queueContract } from "../queue-contract.ts";

queueContract("sqlite", async () => new SqliteQueueDriver(tempStore(queueMigrations)));

import { describe, expect, test } from "bun:test";

describe("sqlite driver inside a caller's transaction", () => {
  test("push runs synchronously on the store's connection: it commits or rolls back with the caller", () => {
    const store = tempStore(queueMigrations);
    const d = new SqliteQueueDriver(store);
    const count = () => (store.db.query("SELECT COUNT(*) AS n FROM queue_jobs").get() as { n: number }).n;
    store.tx(() => void d.push([{ handler: "a", queue: "default" }], Date.now()));
    expect(count()).toBe(1);
    expect(() =>
      store.tx(() => {
        void d.push(Array.from({ length: 10 }, () => ({ handler: "a", queue: "default" })), Date.now());
        throw new Error("caller fails after the push");
      }),
    ).toThrow("caller fails");
    expect(count()).toBe(1);
  });
});
