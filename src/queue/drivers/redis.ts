export class RedisQueueDriver {
  constructor(_opts: { url: string; prefix: string }) {
    throw new Error("redis driver: not yet");
  }
}
