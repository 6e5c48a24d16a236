import { BlockList, isIP } from 'node:net';

/** "::ffff:10.0.0.1" → "10.0.0.1": an IPv4 client on a dual-stack socket is matched as IPv4. */
export function normalizeAddress(address: string): string {
  return address.startsWith('::ffff:') && isIP(address.slice(7)) === 4 ? address.slice(7) : address;
}

/** Whether an address is in a list of IPs and CIDR ranges. */
export type AddressMatcher = (address: string) => boolean;

/**
 * Reads a list of IPs and CIDR ranges (10.1.2.3, 10.1.0.0/16, 2001:db8::/32) into a matcher
 * (node:net's BlockList); `invalid` is the first entry that is neither. Used for a system's
 * `allowed_addresses` and `syslog_addresses`, and for MLOG_TRUSTED_PROXIES.
 */
export function parseAddressList(entries: readonly string[]): { matches: AddressMatcher } | { invalid: string } {
  const list = new BlockList();
  for (const entry of entries) {
    const [network = '', prefixText, extra] = entry.split('/');
    const family = isIP(network);
    const prefix = prefixText === undefined ? undefined : Number(prefixText);
    const maxPrefix = family === 4 ? 32 : 128;
    if (family === 0 || extra !== undefined || (prefix !== undefined && (!/^\d{1,3}$/.test(prefixText ?? '') || prefix > maxPrefix))) {
      return { invalid: entry };
    }
    const type = family === 4 ? 'ipv4' : 'ipv6';
    if (prefix === undefined) list.addAddress(network, type);
    else list.addSubnet(network, prefix, type);
  }
  return {
    matches: (address: string) => {
      const normalized = normalizeAddress(address);
      const family = isIP(normalized);
      return family !== 0 && list.check(normalized, family === 4 ? 'ipv4' : 'ipv6');
    },
  };
}
