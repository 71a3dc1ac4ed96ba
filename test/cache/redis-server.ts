/**
 * A throwaway redis-server on a random loopback port for one test file (needs the Debian package
 * `redis-server`). No persistence; killed after the file's tests.
 */
import { afterAll } from "bun:test";
import { createServer } from "node:net";

export interface TestRedis {
  url: string;
  port: number;
  stop(): Promise<void>;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

export function redisAvailable(): boolean {
  return Bun.which("redis-server") !== null;
}

export async function startRedis(): Promise<TestRedis> {
  for (let attempt = 0; attempt < 5; attempt++) {
    const port = await freePort();
    const proc = Bun.spawn(["redis-server", "--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--protected-mode", "yes"], {
      stdout: "pipe",
      stderr: "pipe",
    });
    // wait for "Ready to accept connections" (bounded); a lost port race exits instead
    const ready = await new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), 10_000);
      let text = "";
      (async () => {
        for await (const chunk of proc.stdout) {
          text += new TextDecoder().decode(chunk);
          if (text.includes("Ready to accept connections")) {
            clearTimeout(timer);
            return resolve(true);
          }
        }
        clearTimeout(timer);
        resolve(false);
      })();
    });
    if (!ready) {
      proc.kill("SIGKILL");
      continue;
    }
    const stop = async () => {
      if (proc.exitCode === null) proc.kill("SIGKILL");
      await proc.exited;
    };
    afterAll(stop);
    return { url: `redis://127.0.0.1:${port}`, port, stop };
  }
  throw new Error("could not start redis-server on a free port");
}
