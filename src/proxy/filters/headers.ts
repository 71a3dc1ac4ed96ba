/** Header edits from `request_headers` / `response_headers`: remove, then set, then add. */
import type { HeaderOps } from "../types.ts";

export interface CompiledHeaderOps {
  remove: string[];
  set: [string, string][];
  add: [string, string][];
  empty: boolean;
}

export function compileHeaderOps(ops: HeaderOps): CompiledHeaderOps {
  const set = Object.entries(ops.set);
  const add = Object.entries(ops.add);
  return { remove: ops.remove.map((h) => h.toLowerCase()), set, add, empty: ops.remove.length + set.length + add.length === 0 };
}

export function applyHeaderOps(h: Headers, ops: CompiledHeaderOps): void {
  if (ops.empty) return;
  for (const r of ops.remove) h.delete(r);
  for (const [k, v] of ops.set) h.set(k, v);
  for (const [k, v] of ops.add) h.append(k, v);
}
