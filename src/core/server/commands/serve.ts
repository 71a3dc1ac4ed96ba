import type { App } from "../../app.ts";
import { defineCommand } from "../../module.ts";
import { SERVE_ARGS } from "../flags.ts";
import { metricsService } from "../metrics-service.ts";
import { serveServices } from "../serve.ts";
import type { Service } from "../service.ts";

/** Every service the config enables, from every module, plus the metrics listener. */
export async function enabledServices(app: App): Promise<Service[]> {
  const services: Service[] = [];
  for (const m of app.modules) if (m.services) services.push(...(await m.services(app)));
  if (app.config.get<boolean>("metrics.enabled")) services.push(metricsService(app));
  return services;
}

export const serveCommand = defineCommand({
  name: "serve",
  description: "Run every service the config enables (proxy, dns, queue worker, scheduler, metrics)",
  args: { ...SERVE_ARGS },
  async run({ app, args }) {
    const services = await enabledServices(app);
    if (services.length <= 1 && !args.test) app.log.info("no services enabled besides metrics; enable proxy/dns/queue/schedule in the config");
    return serveServices(app, services, args);
  },
});
