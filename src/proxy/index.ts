/**
 * @module proxy — reverse proxy and load balancer configured from YAML (Pingora's model, no code
 * needed): routes, upstreams with seven selection policies, retries, active and passive health,
 * filters, hooks files for Pingora's phases, TLS with SNI, WebSocket passthrough, metrics, access log.
 */
import { defineModule } from "../core/module.ts";
import { checkCommand } from "./commands/check.ts";
import { routesCommand } from "./commands/routes.ts";
import { serveCommand } from "./commands/serve.ts";
import { upstreamsCommand } from "./commands/upstreams.ts";
import { proxySchema } from "./config.ts";
import { proxyServices } from "./service.ts";
import { defineProxyHooks } from "./phases/hooks.ts";

export const proxyModule = defineModule({
  name: "proxy",
  description: "reverse proxy and load balancer",
  commands: [serveCommand, checkCommand, routesCommand, upstreamsCommand],
  config: { proxy: proxySchema },
  services: (app) => proxyServices(app),
  sdk: { defineProxyHooks },
});

export type { ProxyHooks, HookContext } from "./phases/hooks.ts";
export { defineProxyHooks };
