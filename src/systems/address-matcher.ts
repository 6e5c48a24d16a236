import { ValidationError } from '../errors/mlog-error.js';
import { normalizeAddress, parseAddressList, type AddressMatcher } from '../config/address-list.js';

export { normalizeAddress };

/** Checks IPs and CIDRs (10.0.0.0/8, 2001:db8::/32) and builds a matcher; an empty list allows any address. */
export function compileAllowedAddresses(entries: readonly string[]): AddressMatcher {
  if (entries.length === 0) return () => true;
  return compileAddressList(entries, 'allowed_addresses');
}

/** The matcher of a system's `syslog_addresses` (plain-TCP syslog): an empty list matches no address. */
export function compileSyslogAddresses(entries: readonly string[]): AddressMatcher {
  if (entries.length === 0) return () => false;
  return compileAddressList(entries, 'syslog_addresses');
}

function compileAddressList(entries: readonly string[], field: string): AddressMatcher {
  const parsed = parseAddressList(entries);
  if ('invalid' in parsed) {
    throw new ValidationError(`${field} contains "${parsed.invalid}", which is not an IP address or CIDR range (for example 10.1.2.3 or 10.1.0.0/16).`);
  }
  return parsed.matches;
}
