import { table } from "../../core/cli/output.ts";
import { UsageError } from "../../core/errors.ts";
import { defineCommand } from "../../core/module.ts";
import { CertificateRepository, toRecord } from "../repository.ts";

const DAY = 86_400_000;

export const tlsList = defineCommand({
  name: "tls:list",
  description: "List issued certificates with their hosts, expiry and files",
  args: {
    expiring: { type: "boolean", description: "Only certificates expiring within --within days (or already expired)" },
    within: { type: "string", description: "Days for --expiring (default 30)" },
  },
  run({ app, args }) {
    const within = args.within === undefined ? 30 : Number(args.within);
    if (!Number.isInteger(within) || within < 0) throw new UsageError(`--within must be a whole number of days, got '${args.within}'`);
    const now = app.clock.now();
    const rows = new CertificateRepository(app.store())
      .all()
      .map((r) => {
        const days_left = Math.floor((r.not_after - now) / DAY);
        return { ...toRecord(r), days_left, status: r.not_after <= now ? "expired" : days_left < within ? "expiring" : "valid" };
      })
      .filter((r) => !args.expiring || r.days_left < within);
    app.print(rows, (rs) =>
      table(
        rs.map((r: (typeof rows)[number]) => ({ ...r, hosts: r.hosts.join(","), serial: r.serial.slice(0, 12), not_after: r.not_after.slice(0, 10), cert_path: r.cert_path ?? "(store)" })),
        ["id", "hosts", "source", "serial", "not_after", "days_left", "status", "cert_path"],
      ),
    );
  },
});
