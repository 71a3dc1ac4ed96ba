/**
 * A throwaway redis-server on a random loopback port for the redis driver tests (stopped after
 * the file's tests). Returns undefined when redis-server is not installed, so the suite can say
 * why it skipped.
 */
import { afterAll } from "bun:test";
import { RedisClient } from "bun";
import { tempDir } from "../harness.ts";

export async function startRedis(): Promise<{ url: string; stop(): void } | undefined> {
  if (!Bun.which("redis-server")) return undefined;
  for (let attempt = 0; attempt < 5; attempt++) {
    const port = 20_000 + Math.floor(Math.random() * 40_000);
    const proc = Bun.spawn(["redis-server", "--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", tempDir()], { stdout: "ignore", stderr: "ignore" });
    const url = `redis://127.0.0.1:${port}`;
    for (let i = 0; i < 50 && proc.exitCode === null; i++) {
      try {
        const c = new RedisClient(url, { autoReconnect: false, connectionTimeout: 200 });
        await c.send("PING", []);
        c.close();
        const stop = () => proc.kill("SIGKILL");
        afterAll(stop);
        return { url, stop };
      } catch {
        await Bun.sleep(50);
      }
    }
    proc.kill("SIGKILL");
  }
  throw new Error("could not start redis-server on a loopback port");
}
