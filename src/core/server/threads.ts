/**
 * Worker threads that run a module's code (the DNS I/O thread). A thread starts the same entry
 * as the process — src/main.ts from source, the binary's embedded entry when compiled — and
 * main.ts hands it to `runThread`, which calls the function the named module registered.
 */
import { fileURLToPath } from "node:url";
import { Worker, type MessagePort } from "node:worker_threads";
import type { Module } from "../module.ts";

const KEY = "securelyThread";

export interface ThreadData {
  [KEY]: string;
  data: unknown;
}

/** Start thread `name` ("dns.io" → module dns, entry io). `transfer` moves MessagePorts. */
export function startThread(name: string, data: unknown, transfer: MessagePort[] = []): Worker {
  // compiled: Bun.main is the embedded entry (/$bunfs/…); from source it may be a test file
  const entry = Bun.main.startsWith("/$bunfs/") || Bun.main.startsWith("B:/~BUN/") ? Bun.main : fileURLToPath(new URL("../../main.ts", import.meta.url));
  return new Worker(entry, { workerData: { [KEY]: name, data } satisfies ThreadData, transferList: transfer });
}

export function isThread(workerData: unknown): workerData is ThreadData {
  return typeof workerData === "object" && workerData !== null && typeof (workerData as ThreadData)[KEY] === "string";
}

export async function runThread(modules: Module[], wd: ThreadData): Promise<void> {
  const [ns, entry] = wd[KEY].split(".") as [string, string];
  const fn = modules.find((m) => m.name === ns)?.threads?.[entry ?? ""];
  if (!fn) throw new Error(`no thread entry "${wd[KEY]}" (module ${ns} does not register it)`);
  await fn(wd.data);
}
