/** Prometheus metrics of workflow workers (served by the metrics listener). */
import { metrics } from "../../core/metrics/index.ts";

export const workflowMetrics = {
  workflowTasks: metrics.counter("securely_workflow_tasks_total", "Workflow tasks (replays) executed by this process."),
  activities: metrics.counter("securely_workflow_activity_attempts_total", "Activity attempts by outcome (completed, retried, failed)."),
  started: metrics.counter("securely_workflow_started_total", "Workflow runs started by this process."),
};
