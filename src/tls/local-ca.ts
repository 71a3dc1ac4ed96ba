/** Get the configured local CA, creating it on first use (as mkcert does), serialised across processes. */
import type { App } from "../core/app.ts";
import { createCa, loadCa, type LocalCa } from "./ca.ts";
import { tlsOptions, type TlsOptions } from "./config.ts";
import { TlsError } from "./errors.ts";

export interface EnsuredCa {
  ca: LocalCa;
  created: boolean;
}

/**
 * Load the CA, or create it when neither file exists. Runs inside the store's write transaction
 * so two processes starting together (proxy workers) never create two different CAs.
 */
export function ensureLocalCa(app: App, opts: TlsOptions = tlsOptions(app)): EnsuredCa {
  const now = app.clock.now();
  const attempt = (): EnsuredCa => {
    try {
      return { ca: loadCa(opts.dir, now), created: false };
    } catch (err) {
      if (!(err instanceof TlsError) || err.code !== "TLS_CA_MISSING") throw err;
    }
    const ca = createCa(opts.dir, { days: opts.ca_days, keyType: opts.ca_key_type, permittedNames: opts.permitted_names, now });
    app.log.info(`created local CA ${ca.certPath} — run \`securely tls:trust\` so browsers and clients accept its certificates`);
    return { ca, created: true };
  };
  return app.store().tx(attempt);
}
