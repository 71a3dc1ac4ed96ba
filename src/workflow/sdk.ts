/**
 * What user files get from `import { … } from "securely"`: defineWorkflow and defineActivity
 * (identity helpers that brand the object so the loader can find it among a file's exports),
 * and the errors workflow code throws or catches.
 */
import type { ActivityDefinition, ActivityFn, ActivityOptions, WorkflowDefinition, WorkflowFn } from "./types.ts";
import { ActivityFailure, CancelledFailure, ChildWorkflowFailure, NonRetryableError } from "./errors.ts";

type WorkflowSpec<I, O> = Omit<WorkflowDefinition<I, O>, "kind">;

/** `defineWorkflow(fn)`, `defineWorkflow("name", fn)` or `defineWorkflow({ name, run, activities })`. */
export function defineWorkflow<I = any, O = any>(spec: WorkflowFn<I, O> | WorkflowSpec<I, O>): WorkflowDefinition<I, O>;
export function defineWorkflow<I = any, O = any>(name: string, fn: WorkflowFn<I, O>): WorkflowDefinition<I, O>;
export function defineWorkflow(a: any, b?: any): WorkflowDefinition {
  if (typeof a === "string") return { kind: "securely.workflow", name: a, run: b };
  if (typeof a === "function") return { kind: "securely.workflow", run: a };
  return { ...a, kind: "securely.workflow" };
}

/** `defineActivity(fn)`, `defineActivity("name", fn, options)` or `defineActivity({ name, run, options })`. */
export function defineActivity<I = any, O = any>(spec: ActivityFn<I, O> | Omit<ActivityDefinition<I, O>, "kind">): ActivityDefinition<I, O>;
export function defineActivity<I = any, O = any>(name: string, fn: ActivityFn<I, O>, options?: ActivityOptions): ActivityDefinition<I, O>;
export function defineActivity(a: any, b?: any, c?: any): ActivityDefinition {
  if (typeof a === "string") return { kind: "securely.activity", name: a, run: b, options: c };
  if (typeof a === "function") return { kind: "securely.activity", run: a };
  return { ...a, kind: "securely.activity" };
}

export function isWorkflowDefinition(v: unknown): v is WorkflowDefinition {
  return !!v && typeof v === "object" && (v as any).kind === "securely.workflow" && typeof (v as any).run === "function";
}

export function isActivityDefinition(v: unknown): v is ActivityDefinition {
  return !!v && typeof v === "object" && (v as any).kind === "securely.activity" && typeof (v as any).run === "function";
}

export const workflowSdk = {
  defineWorkflow,
  defineActivity,
  NonRetryableError,
  ActivityFailure,
  ChildWorkflowFailure,
  CancelledFailure,
};
