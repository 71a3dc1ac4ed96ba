/**
 * SIGHUP: read the config again and apply it where that is safe. An invalid config changes
 * nothing (the instance keeps serving with what it has). Server keys (threads, pid_file, …) and
 * services without `reload()` are logged as needing a restart: a graceful upgrade
 * (`kill -QUIT` + `serve -u`) applies them without dropping a connection.
 */
import { isDeepStrictEqual } from "node:util";
import { App } from "../app.ts";
import { serverKeys } from "../config/server-keys.ts";
import { errorMessage } from "../errors.ts";
import type { Service } from "./service.ts";

export interface ReloadOutcome {
  ok: boolean;
  error?: string;
  applied: string[];
  needsRestart: string[];
}

/** The config section a service reads: "proxy.health" → "proxy". */
function sectionOf(service: Service): string {
  return service.name.split(".")[0]!;
}

export async function reloadServices(app: App, services: Service[]): Promise<ReloadOutcome> {
  const next = new App({ modules: app.modules, configPath: app.configPath, env: app.env, provided: app.provided, cwd: app.cwd, json: app.json });
  try {
    next.config;
  } catch (err) {
    next.close();
    const error = errorMessage(err);
    app.log.error(`reload: the new config is invalid, still serving with the previous one:\n${error}`);
    return { ok: false, error, applied: [], needsRestart: [] };
  }
  // the store connection ${NAME} lookups opened is not needed any more (a service that wants
  // next.store() reopens it lazily); without this every SIGHUP leaked one SQLite connection
  next.close();
  const applied: string[] = [];
  const needsRestart = Object.keys(serverKeys).filter((k) => !isDeepStrictEqual(app.config.get(k), next.config.get(k)));
  for (const s of services) {
    const section = sectionOf(s);
    const changed = !isDeepStrictEqual(app.config.get(section), next.config.get(section));
    if (s.reload) {
      try {
        const r = await s.reload(next);
        applied.push(...r.applied.map((k) => `${s.name}: ${k}`));
        needsRestart.push(...r.needsRestart.map((k) => `${s.name}: ${k}`));
      } catch (err) {
        app.log.error(`reload: ${s.name} could not apply the new config (${errorMessage(err)}); it keeps the previous one`);
      }
    } else if (changed) {
      needsRestart.push(`${section} (service ${s.name} has no live reload)`);
    }
  }
  app.setConfig(next.config);
  app.log.info(`reload: applied ${applied.length ? applied.join(", ") : "nothing"}`);
  if (needsRestart.length) app.log.warn(`reload: needs a restart (kill -QUIT + serve -u) to take effect: ${needsRestart.join(", ")}`);
  return { ok: true, applied, needsRestart };
}
