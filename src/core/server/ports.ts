/**
 * Ports chosen for `port: 0` listeners that must be shared. With `threads: N` every worker binds
 * the same port (SO_REUSEPORT), and after a graceful upgrade the new instance binds the ports the
 * old one holds — so a service asked for port 0 must bind the port the first worker (or the old
 * instance) got. Listening services call `sharedPort(service, port, i)` when they bind; it
 * returns `port` unchanged unless it is 0 and a port was assigned for that listener.
 */
const ENV = "SECURELY_ASSIGNED_PORTS";
let assigned: Record<string, number[]> | undefined;

function load(): Record<string, number[]> {
  if (assigned) return assigned;
  try {
    assigned = JSON.parse(process.env[ENV] ?? "{}") as Record<string, number[]>;
  } catch {
    assigned = {};
  }
  return assigned;
}

/** Port for listener number `index` of `service` (in the order start() reports them). */
export function sharedPort(service: string, port: number, index = 0): number {
  if (port !== 0) return port;
  return load()[service]?.[index] ?? 0;
}

/** Record the ports a service reported ("http 127.0.0.1:8080" …) so later binds reuse them. */
export function assignPorts(service: string, listening: string[]): void {
  load()[service] = listening.map(portOf).filter((p): p is number => p !== undefined);
}

export function assignedPortsEnv(): Record<string, string> {
  return { [ENV]: JSON.stringify(load()) };
}

export function portOf(addr: string): number | undefined {
  const m = /:(\d+)$/.exec(addr.trim());
  return m ? Number(m[1]) : undefined;
}

/** Forget assignments (tests). */
export function resetPorts(): void {
  assigned = undefined;
}
