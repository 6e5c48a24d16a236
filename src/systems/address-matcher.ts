import { BlockList, isIP } from 'node:net';
import { ValidationError } from '../errors/mlog-error.js';

/** "::ffff:10.0.0.1" → "10.0.0.1": an IPv4 client on a dual-stack socket is matched as IPv4. */
export function normalizeAddress(address: string): string {
  return address.startsWith('::ffff:') && isIP(address.slice(7)) === 4 ? address.slice(7) : address;
}

/** Checks IPs and CIDRs (10.0.0.0/8, 2001:db8::/32) and builds a matcher; an empty list allows any address. */
export function compileAllowedAddresses(entries: readonly string[]): (address: string) => boolean {
  if (entries.length === 0) return () => true;
  return compileAddressList(entries, 'allowed_addresses');
}

/** The matcher of a system's `syslog_addresses` (plain-TCP syslog): an empty list matches no address. */
export function compileSyslogAddresses(entries: readonly string[]): (address: string) => boolean {
  if (entries.length === 0) return () => false;
  return compileAddressList(entries, 'syslog_addresses');
}

function compileAddressList(entries: readonly string[], field: string): (address: string) => boolean {
  const list = new BlockList();
  for (const entry of entries) {
    const [network = '', prefixText, extra] = entry.split('/');
    const family = isIP(network);
    const prefix = prefixText === undefined ? undefined : Number(prefixText);
    const maxPrefix = family === 4 ? 32 : 128;
    if (family === 0 || extra !== undefined || (prefix !== undefined && (!/^\d{1,3}$/.test(prefixText ?? '') || prefix > maxPrefix))) {
      throw new ValidationError(`${field} contains "${entry}", which is not an IP address or CIDR range (for example 10.1.2.3 or 10.1.0.0/16).`);
    }
    const type = family === 4 ? 'ipv4' : 'ipv6';
    if (prefix === undefined) list.addAddress(network, type);
    else list.addSubnet(network, prefix, type);
  }
  return (address: string) => {
    const normalized = normalizeAddress(address);
    const family = isIP(normalized);
    return family !== 0 && list.check(normalized, family === 4 ? 'ipv4' : 'ipv6');
  };
}
