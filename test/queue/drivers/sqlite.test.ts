import { SqliteQueueDriver } from "../../../src/queue/drivers/sqlite.ts";
import { queueMigrations } from "../../../src/queue/migrations.ts";
import { tempStore } from "../../harness.ts";
import { queueContract } from "../queue-contract.ts";

queueContract("sqlite", async () => new SqliteQueueDriver(tempStore(queueMigrations)));
