/**
 * Name → definition for workflows and activities a worker can run: the files listed in
 * `workflow.files` (every export made with defineWorkflow / defineActivity), the YAML workflows
 * under `workflows:`, and the built-in activities (securely.shell, securely.http). A file that fails
 * to load, or two definitions with one name, stop the worker from starting.
 */
import { basename, extname } from "node:path";
import type { App } from "../core/app.ts";
import { SecurelyError } from "../core/errors.ts";
import { loadUserModule } from "../core/sdk/index.ts";
import { builtinActivities } from "./activities/index.ts";
import { jobActivity } from "./activities/job.ts";
import { WorkflowError } from "./errors.ts";
import { isActivityDefinition, isWorkflowDefinition } from "./sdk.ts";
import type { ActivityDefinition, WorkflowDefinition } from "./types.ts";
import { compileYamlWorkflow, type YamlWorkflow } from "./yaml/compile.ts";

export class Registry {
  readonly workflows = new Map<string, WorkflowDefinition>();
  readonly activities = new Map<string, ActivityDefinition>();
  private sources = new Map<string, string>();
  /** True once the config's workflows were loaded: only then can a start check the name. */
  loaded = false;

  constructor() {
    for (const [name, def] of Object.entries(builtinActivities)) this.activities.set(name, def);
  }

  addWorkflow(def: WorkflowDefinition, name: string, source: string): void {
    const prev = this.sources.get(`w:${name}`);
    if (prev) throw new SecurelyError(`workflow '${name}' is defined twice: in ${prev} and in ${source}`, { hint: "rename one of them" });
    this.sources.set(`w:${name}`, source);
    this.workflows.set(name, { ...def, name });
  }

  addActivity(def: ActivityDefinition, name: string, source: string): void {
    const prev = this.sources.get(`a:${name}`);
    if (prev) throw new SecurelyError(`activity '${name}' is defined twice: in ${prev} and in ${source}`, { hint: "rename one of them" });
    this.sources.set(`a:${name}`, source);
    this.activities.set(name, { ...def, name });
  }

  /** Register every workflow and activity a loaded file exports. */
  addModule(exports: Record<string, unknown>, file: string): void {
    for (const [key, value] of Object.entries(exports)) {
      const fallback = key === "default" ? basename(file, extname(file)) : key;
      if (isWorkflowDefinition(value)) {
        this.addWorkflow(value, value.name ?? fallback, file);
        for (const [an, a] of Object.entries(value.activities ?? {})) {
          this.addActivity(typeof a === "function" ? { kind: "securely.activity", run: a } : a, an, `${file} (workflow ${value.name ?? fallback})`);
        }
      } else if (isActivityDefinition(value)) this.addActivity(value, value.name ?? fallback, file);
    }
  }

  workflow(name: string): WorkflowDefinition {
    const def = this.workflows.get(name);
    if (!def) throw WorkflowError.unknownWorkflow(name, [...this.workflows.keys()]);
    return def;
  }

  activity(name: string): ActivityDefinition | undefined {
    return this.activities.get(name);
  }

  names(): string[] {
    return [...this.workflows.keys()].sort();
  }
}

/** Build the registry the config describes (loads user files: call once per process). */
export async function loadRegistry(app: App): Promise<Registry> {
  const reg = new Registry();
  reg.activities.set("securely.job", jobActivity(app));
  for (const [name, spec] of Object.entries(app.config.get<Record<string, YamlWorkflow>>("workflows") ?? {})) {
    reg.addWorkflow(compileYamlWorkflow(name, spec, app.baseDir), name, `${app.configPath ?? "config"} workflows.${name}`);
  }
  for (const file of app.config.get<string[]>("workflow.files") ?? []) {
    const path = app.resolvePath(file);
    reg.addModule(await loadUserModule(path, "workflow file"), path);
  }
  reg.loaded = true;
  return reg;
}
