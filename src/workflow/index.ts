/**
 * @module workflow — durable workflows (Temporal / Laravel Workflow style) in the store.
 * Workflow code is replayed deterministically over an append-only history; activities are the
 * only side effects and run at least once, their recorded results exactly once into the code.
 * Other namespaces use this door only: the module, the client/runtime, and the SDK.
 */
import { defineModule } from "../core/module.ts";
import { workflowCancel, workflowRetry, workflowTerminate } from "./commands/control.ts";
import { workflowHistory } from "./commands/history.ts";
import { workflowList } from "./commands/list.ts";
import { workflowPrune } from "./commands/prune.ts";
import { workflowRun } from "./commands/run.ts";
import { workflowSignal } from "./commands/signal.ts";
import { workflowStatus } from "./commands/status.ts";
import { workflowWork } from "./commands/work.ts";
import { workflowConfig } from "./config.ts";
import { workflowMigrations } from "./migrations.ts";
import { workflowSdk } from "./sdk.ts";
import { workflowService } from "./service.ts";
// registers the workflow.task / workflow.activity queue handlers in queue:work and serve
import "./tasks/queue-executor.ts";

export { openRuntime, workerOptions, createWorker, type Runtime } from "./runtime.ts";
export { defineWorkflow, defineActivity } from "./sdk.ts";
export type { WorkflowContext, WorkflowDefinition, ActivityDefinition, ActivityContext, ActivityOptions } from "./types.ts";

export const workflowModule = defineModule({
  name: "workflow",
  description: "durable workflows: deterministic replay, activities, timers, signals",
  commands: [workflowRun, workflowList, workflowStatus, workflowHistory, workflowSignal, workflowCancel, workflowTerminate, workflowRetry, workflowPrune, workflowWork],
  config: workflowConfig,
  migrations: workflowMigrations,
  sdk: workflowSdk,
  services(app) {
    return app.config.get<boolean>("workflow.enabled") ? [workflowService(app)] : [];
  },
});
