/**
 * User code (proxy hooks, queue handlers, workflows) is a .ts/.js file next to the config, loaded
 * by the compiled binary at start. `import { defineWorkflow } from "securely"` must resolve with no
 * install, so the binary registers a virtual "securely" module holding every module's SDK exports.
 */
import { plugin } from "bun";
import type { Module } from "../module.ts";

let installed = false;

export function sdkExports(modules: Module[]): Record<string, unknown> {
  const exports: Record<string, unknown> = {};
  for (const m of modules) Object.assign(exports, m.sdk ?? {});
  return exports;
}

export function installSdk(modules: Module[]): void {
  if (installed) return;
  installed = true;
  const exports = sdkExports(modules);
  plugin({
    name: "securely-sdk",
    setup(build) {
      build.module("securely", () => ({ exports, loader: "object" }));
    },
  });
}
