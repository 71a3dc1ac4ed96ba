#!/usr/bin/env bun
/**
 * Composition root: the only file that imports every namespace. It lists the modules, wires the
 * functions one namespace offers another (settings → config interpolation), and runs the CLI.
 */
// first: `serve` re-executes itself here with its runtime options, before anything else loads
import "./core/native/serve-env.ts";
import { runCli } from "./core/cli/run.ts";
import { installSdk } from "./core/sdk/index.ts";
import { coreModule } from "./core/commands/index.ts";
import type { App, Provided } from "./core/app.ts";
import type { Module } from "./core/module.ts";
import { VERSION } from "./core/version.ts";
import { isThread, runThread } from "./core/server/threads.ts";
import { isMainThread, workerData } from "node:worker_threads";
import { cache, cacheModule, cacheOptions, rateLimiter } from "./cache/index.ts";
import { dnsModule } from "./dns/index.ts";
import { proxyModule } from "./proxy/index.ts";
import { openQueue, queueModule } from "./queue/index.ts";
import { scheduleModule } from "./schedule/index.ts";
import { lookupSetting, readSetting, settingsModule } from "./settings/index.ts";
import { tlsModule } from "./tls/index.ts";
import { openRuntime, workflowModule } from "./workflow/index.ts";

export const modules: Module[] = [
  coreModule,
  settingsModule,
  proxyModule,
  dnsModule,
  queueModule,
  workflowModule,
  cacheModule,
  scheduleModule,
  tlsModule,
];

export const provided: Provided = {
  lookupSetting,
  // queue job handlers get ctx.settings / ctx.cache without an import edge from queue
  settings: (app: App) => ({ get: (key: string) => readSetting(app, key) }),
  cache: (app: App) => cache(app),
  // the queue's rateLimited middleware; memory and null stores share nothing, so the queue counts itself
  rateLimiter: (app: App) => (["memory", "null"].includes(cacheOptions(app).store) ? undefined : rateLimiter(app)),
  // the scheduler's `job:` entries
  pushJob: (app: App, handler: string, payload: unknown, opts: { queue?: string }) => openQueue(app).push(handler, payload, opts),
  // the scheduler's `workflow:` entries
  startWorkflow: async (app: App, name: string, input: unknown, opts: Record<string, unknown>) =>
    (await openRuntime(app, { loadCode: true })).client.start(name, input, opts),
};

if (!isMainThread && isThread(workerData)) {
  // a module's worker thread (the DNS I/O thread): same entry, different job
  await runThread(modules, workerData);
} else if (import.meta.main) {
  installSdk(modules);
  const code = await runCli(process.argv.slice(2), { modules, version: VERSION, provided });
  process.exitCode = code;
  // long-running commands resolve only when stopped; short ones must not wait on stray handles
  process.exit(code);
}
