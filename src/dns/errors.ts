/** dns errors users can cause, each saying what, where and what to do. */
import { SecurelyError } from "../core/errors.ts";

export class DnsError extends SecurelyError {
  constructor(message: string, code: string, hint?: string) {
    super(message, { code, hint });
    this.name = "DnsError";
  }

  static zoneMissing(zone: string): DnsError {
    return new DnsError(`zone ${zone} does not exist in the store`, "DNS_ZONE_MISSING", "create it with `securely dns:zone:add " + zone + "` (see dns:zone:list)");
  }
  static zoneExists(zone: string): DnsError {
    return new DnsError(`zone ${zone} already exists in the store`, "DNS_ZONE_EXISTS", "use dns:record:add to change it, or dns:zone:remove first");
  }
  static badRecord(where: string, reason: string): DnsError {
    return new DnsError(`${where}: ${reason}`, "DNS_BAD_RECORD", "see docs/dns.md for each record type's fields");
  }
  static outOfZone(name: string, zone: string): DnsError {
    return new DnsError(`${name} is not inside zone ${zone}`, "DNS_OUT_OF_ZONE", `use a name relative to ${zone}, @ for the apex, or an absolute name ending in .${zone}.`);
  }
  static cnameConflict(name: string): DnsError {
    return new DnsError(`${name} would have a CNAME and other records`, "DNS_CNAME_CONFLICT", "a name with a CNAME can have no other data (RFC 1034 §3.6.2); remove one of them first");
  }
}
