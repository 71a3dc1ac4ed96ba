// Spawned by certificate-for.test.ts: one process calling certificateFor on a shared store.
import { App } from "../../src/core/app.ts";
import { certificateFor, tlsModule } from "../../src/tls/index.ts";

const app = new App({ modules: [tlsModule], configPath: process.argv[2], env: {}, logLevel: "silent" });
const b = await certificateFor(app, ["shared.test", "*.shared.test"]);
process.stdout.write(JSON.stringify({ serial: b.serial, ca: b.ca }));
app.close();
