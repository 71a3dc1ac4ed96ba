import { afterAll, describe, test } from "bun:test";
import { RedisQueueDriver } from "../../../src/queue/drivers/redis.ts";
import { queueContract } from "../queue-contract.ts";
import { startRedis } from "../redis-server.ts";

const redis = await startRedis();
if (!redis) {
  describe("redis driver", () => test.skip("redis-server is not installed (apt-get install redis-server)", () => {}));
} else {
  let n = 0;
  const drivers: RedisQueueDriver[] = [];
  queueContract("redis", async () => {
    const d = new RedisQueueDriver({ url: redis.url, prefix: `t${process.pid}:${n++}:` });
    drivers.push(d);
    return d;
  });
  afterAll(() => Promise.all(drivers.map((d) => d.close())));
}
