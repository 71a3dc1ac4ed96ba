/**
 * A YAML workflow (`workflows.NAME.steps`) becomes an ordinary workflow definition whose code
 * walks the steps, so it is durable, replayed and inspected exactly like a code workflow: each
 * shell/http/job/activity step is an activity, sleeps are durable timers, waits are signals.
 */
import { resolve } from "node:path";
import { defineWorkflow } from "../sdk.ts";
import type { ActivityOptions, WorkflowContext, WorkflowDefinition } from "../types.ts";
import { render } from "./template.ts";

export interface YamlEffect {
  shell?: string;
  env?: Record<string, string>;
  cwd?: string;
  http?: { url?: string; method?: string; headers?: Record<string, string>; body?: unknown };
  job?: { handler?: string; payload?: unknown; queue?: string };
  activity?: string;
  input?: unknown;
}

export interface YamlStep extends YamlEffect {
  name: string;
  sleep?: number;
  wait_for_signal?: string;
  approval?: string;
  /** Seconds. */
  timeout?: number;
  retry?: { initial_interval?: number; backoff_coefficient?: number; maximum_interval?: number; maximum_attempts?: number; non_retryable_errors?: string[] };
  on_failure?: YamlEffect;
}

export interface YamlWorkflow {
  description?: string;
  steps: YamlStep[];
}

class StepFailed extends Error {
  constructor(message: string) {
    super(message);
    this.name = "StepFailed";
  }
}

function activityOptions(step: YamlStep): ActivityOptions {
  const o: ActivityOptions = {};
  if (step.timeout !== undefined) o.startToCloseTimeout = step.timeout * 1000;
  const r = step.retry;
  if (r) {
    o.retry = {};
    if (r.initial_interval !== undefined) o.retry.initialInterval = r.initial_interval * 1000;
    if (r.backoff_coefficient !== undefined) o.retry.backoffCoefficient = r.backoff_coefficient;
    if (r.maximum_interval !== undefined) o.retry.maximumInterval = r.maximum_interval * 1000;
    if (r.maximum_attempts !== undefined) o.retry.maximumAttempts = r.maximum_attempts;
    if (r.non_retryable_errors?.length) o.retry.nonRetryableErrors = r.non_retryable_errors;
  }
  return o;
}

function hasEffect(e: YamlEffect): boolean {
  return e.shell !== undefined || !!e.http?.url || !!e.job?.handler || !!e.activity;
}

/** Run one effect (a step's or a compensation's) as an activity; undefined if it has none. */
function runEffect(ctx: WorkflowContext, e: YamlEffect, scope: Record<string, unknown>, options: ActivityOptions, baseDir: string): Promise<unknown> | undefined {
  const data = { input: scope.input, steps: scope.steps };
  if (e.shell !== undefined) {
    const cwd = resolve(baseDir, e.cwd ?? ".");
    return ctx.activity("securely.shell", { command: render(e.shell, scope), env: render(e.env ?? {}, scope), cwd, stdin: data }, options);
  }
  if (e.http?.url) {
    const body = e.http.body === undefined ? data : render(e.http.body, scope);
    return ctx.activity("securely.http", { url: render(e.http.url, scope), method: e.http.method, headers: render(e.http.headers ?? {}, scope), body }, options);
  }
  if (e.job?.handler) {
    return ctx.activity("securely.job", { handler: e.job.handler, queue: e.job.queue, payload: e.job.payload === undefined ? data : render(e.job.payload, scope) }, options);
  }
  if (e.activity) return ctx.activity(e.activity, render(e.input ?? null, scope), options);
  return undefined;
}

async function approval(ctx: WorkflowContext, step: YamlStep): Promise<unknown> {
  let decision: { approved: boolean; payload: unknown } | undefined;
  ctx.onSignal("approve", (payload) => (decision ??= { approved: true, payload }));
  ctx.onSignal("reject", (payload) => (decision ??= { approved: false, payload }));
  const wait = { summary: `step ${step.name}: approval (${step.approval}) — signal approve or reject`, ...(step.timeout !== undefined ? { timeout: step.timeout * 1000 } : {}) };
  const ok = await ctx.condition(() => decision !== undefined, wait);
  if (!ok) throw new StepFailed(`step ${step.name}: no approval within ${step.timeout}s`);
  if (!decision!.approved) throw new StepFailed(`step ${step.name}: rejected${decision!.payload ? ` (${JSON.stringify(decision!.payload)})` : ""}`);
  return { approved: true, by: decision!.payload ?? null };
}

/** `baseDir`: the config file's folder; shell steps run there unless `cwd` says otherwise. */
export function compileYamlWorkflow(name: string, spec: YamlWorkflow, baseDir = process.cwd()): WorkflowDefinition {
  return defineWorkflow({
    name,
    async run(ctx, input) {
      const steps: Record<string, { output: unknown }> = {};
      const scope = { input, steps, workflow: { id: ctx.workflowId, name } };
      for (const step of spec.steps) {
        if (step.on_failure && hasEffect(step.on_failure)) {
          const comp = step.on_failure;
          ctx.addCompensation(() => runEffect(ctx, comp, scope, { summary: `compensate ${step.name}` }, baseDir));
        }
        let output: unknown = null;
        const effect = runEffect(ctx, step, scope, { ...activityOptions(step), summary: `step ${step.name}` }, baseDir);
        if (effect) output = await effect;
        else if (step.sleep !== undefined) await ctx.sleep(step.sleep * 1000, { summary: `step ${step.name}` });
        else if (step.wait_for_signal !== undefined) {
          const wait = { summary: `step ${step.name}`, ...(step.timeout !== undefined ? { timeout: step.timeout * 1000 } : {}) };
          output = await ctx.waitForSignal(step.wait_for_signal, wait);
          if (output === undefined) throw new StepFailed(`step ${step.name}: no signal '${step.wait_for_signal}' within ${step.timeout}s`);
        } else if (step.approval !== undefined) output = await approval(ctx, step);
        steps[step.name] = { output: output ?? null };
      }
      return Object.fromEntries(Object.entries(steps).map(([k, v]) => [k, v.output]));
    },
  });
}
