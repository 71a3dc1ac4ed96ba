/**
 * Config sections: `workflow:` (the worker and its defaults) and `workflows:` (workflows written
 * in YAML, for operators who write no code: steps of kind shell, http, job, activity, sleep,
 * wait_for_signal and approval, each with retry, timeout and on_failure compensation).
 */
import { list, map, obj, val, type ObjectSchema } from "../core/config/schema.ts";

const retry = obj({
  initial_interval: val("duration", undefined, "First retry delay (seconds or 1s/5m…); default workflow.activity_retry.initial_interval."),
  backoff_coefficient: val("numeric|min:1", undefined, "Delay multiplier per attempt."),
  maximum_interval: val("duration", undefined, "Cap on the retry delay."),
  maximum_attempts: val("integer|min:0", undefined, "Attempts in total, the first included; 0 = unlimited."),
  non_retryable_errors: list(val("string"), [], "Error names that fail the step at once."),
});

const http = obj({
  url: val("string", undefined, "URL to call (may use ${{ … }} templates)."),
  method: val("in:GET,POST,PUT,PATCH,DELETE", "POST", "HTTP method."),
  headers: map(val("string"), { doc: "Extra request headers." }),
  body: val("", undefined, "Request body: a mapping (sent as JSON) or a string; default: the workflow input and step outputs."),
});

const job = obj({
  handler: val("string", undefined, "Queue handler name (queue.handlers.NAME)."),
  payload: val("", undefined, "Job payload (templates allowed)."),
  queue: val("string", undefined, "Queue name; default the queue's default."),
});

/** Effects a step or a compensation can run. */
const effectFields = {
  shell: val("string", undefined, "Command line run with `sh -c`; stdin gets {input, steps} as JSON; stdout (JSON or text) is the step output."),
  env: map(val("string"), { doc: "Environment for the shell command (templates allowed)." }),
  cwd: val("string", undefined, "Working directory of the shell command, relative to the config file's folder (the default)."),
  http,
  job,
  activity: val("string", undefined, "Name of an activity defined in a workflow.files file."),
  input: val("", undefined, "Input of the `activity` step (templates allowed)."),
};

export const STEP_KINDS = ["shell", "http", "job", "activity", "sleep", "wait_for_signal", "approval"] as const;

function kindsOf(s: Record<string, any>): string[] {
  return STEP_KINDS.filter((k) => (k === "http" ? !!s.http?.url : k === "job" ? !!s.job?.handler : s[k] !== undefined && s[k] !== null));
}

const step: ObjectSchema = obj(
  {
    name: val("required|string|regex:/^[A-Za-z0-9_-]+$/", undefined, "Step name, unique in the workflow; later steps read its output as ${{ steps.NAME.output }}."),
    ...effectFields,
    sleep: val("duration", undefined, "Durable sleep (survives restarts)."),
    wait_for_signal: val("string", undefined, "Wait for this signal (workflow:signal ID NAME PAYLOAD); its payload is the step output."),
    approval: val("string", undefined, "Wait for an `approve` or `reject` signal; the text is shown by workflow:status. Reject fails the step."),
    timeout: val("duration", undefined, "Activity steps: start-to-close timeout per attempt. Waits: give up (fail the step) after it."),
    retry,
    on_failure: obj(effectFields, { doc: "Compensation run (in reverse step order) when this step or a later one fails, or the run is cancelled." }),
  },
  {
    check(s) {
      const kinds = kindsOf(s);
      if (kinds.length === 1) return [];
      return [["", kinds.length === 0 ? `needs one of ${STEP_KINDS.join(", ")}` : `has ${kinds.join(" and ")}; a step does exactly one thing`]];
    },
  },
);

export const workflowConfig = {
  workflow: obj({
    enabled: val("boolean", false, "`serve` runs a workflow worker (workflow:work runs one regardless)."),
    executor: val("in:local,queue", "local", "Who runs workflow tasks and activities: `local` (the workflow worker's own task table; fastest) or `queue` (as queue jobs, run by queue:work or workflow:work)."),
    queue: val("string|regex:/^[A-Za-z0-9_.:-]+$/", "default", "With executor: queue — the queue the workflow jobs go to."),
    files: list(val("string"), [], "TypeScript/JavaScript files exporting defineWorkflow / defineActivity definitions (relative to the config file)."),
    concurrency: val("integer|min:1|max:1000", 16, "Activities one worker runs at once."),
    lease_seconds: val("numeric|min:0.1", 30, "Lease of a workflow task or activity attempt; a crashed worker's work is taken over after it (at once on the same host)."),
    poll_interval_ms: val("integer|min:1", 500, "Longest idle sleep of a worker; commits by other processes wake it sooner."),
    retention_days: val("integer|min:0", 30, "Default age of finished runs workflow:prune deletes."),
    activity_retry: obj({
      initial_interval: val("duration", 1, "First retry delay, seconds."),
      backoff_coefficient: val("numeric|min:1", 2, "Delay multiplier per attempt."),
      maximum_interval: val("duration", 100, "Cap on the retry delay, seconds."),
      maximum_attempts: val("integer|min:0", 3, "Attempts in total per activity; 0 = unlimited (Temporal's default)."),
    }),
  }),
  workflows: map(
    obj({
      description: val("string", undefined, "What the workflow does (shown by workflow:list)."),
      steps: list(step, [], "Steps, run in order."),
    }, {
      check(w) {
        const seen = new Set<string>();
        for (const s of w.steps ?? []) {
          if (seen.has(s.name)) return [["steps", `step name '${s.name}' is used twice`]];
          seen.add(s.name);
        }
        return (w.steps ?? []).length ? [] : [["steps", "needs at least one step"]];
      },
    }),
    { keyRules: "regex:/^[A-Za-z0-9_.-]+$/", doc: "Workflows defined in YAML, by name." },
  ),
};

export { kindsOf };
