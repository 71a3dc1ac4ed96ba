/**
 * Wiring: the engine, client and worker for one App. Commands that only read or poke runs use
 * an empty registry (no user code is loaded); `workflow:run` and workers load the definitions.
 */
import { dirname, join } from "node:path";
import type { App } from "../core/app.ts";
import { keyringEncrypter, requireKeyring } from "../core/crypto/index.ts";
import { encryptingCodec, jsonCodec, type PayloadCodec } from "./history/codec.ts";
import { WorkflowClient } from "./client.ts";
import { Engine } from "./engine/engine.ts";
import { loadRegistry, Registry } from "./registry.ts";
import { dispatchToQueue } from "./tasks/queue-executor.ts";
import { SqliteActivityQueue } from "./tasks/sqlite.ts";
import type { ActivityQueue } from "./types.ts";
import type { RetryDefaults } from "./worker/retry.ts";
import { queueBackedWorker } from "./worker/queue-worker.ts";
import { Worker, type WorkerOptions } from "./worker/worker.ts";

export interface Runtime {
  app: App;
  engine: Engine;
  client: WorkflowClient;
  registry: Registry;
}

export async function openRuntime(app: App, opts: { loadCode?: boolean; queue?: ActivityQueue } = {}): Promise<Runtime> {
  const registry = opts.loadCode ? await loadRegistry(app) : new Registry();
  const store = app.store();
  const codec = payloadCodec(app);
  const engine = new Engine(store, registry, opts.queue ?? new SqliteActivityQueue(store, codec), {
    clock: app.clock,
    log: app.log,
    retry: app.config.get<RetryDefaults>("workflow.activity_retry"),
    codec,
  });
  const rt = { app, engine, client: new WorkflowClient(engine), registry };
  if (app.config.get<string>("workflow.executor") === "queue") dispatchToQueue(app, rt);
  return rt;
}

/** JSON, or JSON encrypted with the app key when `workflow.encrypt` is on. */
function payloadCodec(app: App): PayloadCodec {
  if (!app.config.get<boolean>("workflow.encrypt")) return jsonCodec;
  // the same key the settings' secrets use: SECURELY_KEY, else crypto.key_file, else securely.key beside the store
  const configured = app.env.SECURELY_CRYPTO__KEY_FILE ?? app.config.get<string>("crypto.key_file");
  const keyFile = configured ? app.resolvePath(configured) : join(dirname(app.storePath === ":memory:" ? app.resolvePath(".securely/x") : app.storePath), "securely.key");
  const cipher = app.env.SECURELY_CIPHER ?? app.config.get<string>("crypto.cipher") ?? "AES-256-CBC";
  return encryptingCodec(keyringEncrypter(requireKeyring({ env: app.env, keyFile }), cipher));
}

export function workerOptions(app: App, overrides: Partial<WorkerOptions> = {}): WorkerOptions {
  return {
    concurrency: app.config.get<number>("workflow.concurrency"),
    leaseMs: app.config.get<number>("workflow.lease_seconds") * 1000,
    pollMs: app.config.get<number>("workflow.poll_interval_ms"),
    ...Object.fromEntries(Object.entries(overrides).filter(([, v]) => v !== undefined)),
  };
}

/** What workflow:work, serve and `workflow:run --work` drive, whichever executor runs the tasks. */
export interface WorkflowWorker {
  readonly owner: string;
  run(): Promise<void>;
  stop(graceful?: boolean): void;
}

export function createWorker(rt: Runtime, opts: WorkerOptions): WorkflowWorker {
  if (rt.app.config.get<string>("workflow.executor") === "queue") return queueBackedWorker(rt.app, rt, opts);
  return new Worker(rt.engine, opts);
}
