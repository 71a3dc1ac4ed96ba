/** Every dns:* command. */
import { queryCommand } from "./query.ts";
import { recordAdd, recordList, recordRemove, recordSet } from "./record.ts";
import { serveCommand } from "./serve.ts";
import { setupCommand } from "./setup.ts";
import { zoneAdd, zoneExport, zoneImport, zoneList, zoneRemove } from "./zone.ts";

export const dnsCommands = [serveCommand, zoneAdd, zoneRemove, zoneList, zoneImport, zoneExport, recordAdd, recordSet, recordRemove, recordList, queryCommand, setupCommand];
