import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { BlockList, isIP, type LookupFunction } from 'node:net';
import { badInput } from '../../core/errors';

/**
 * Addresses a webhook must not reach unless the operator allows it
 * (MULU_WEBHOOK_ALLOW_PRIVATE): loopback, private networks, link-local
 * (cloud metadata at 169.254.169.254), carrier-grade NAT, multicast and
 * unspecified addresses. Otherwise anyone allowed to register a webhook could
 * make the server POST into its own network (SSRF).
 */
const blocked = new BlockList();
const IPV4_BLOCKED = [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['224.0.0.0', 3],
] as const;
/** An IPv4 address as the last two groups of an IPv6 address: 127.0.0.0 -> "7f00:0". */
const asIpv6Groups = (ipv4: string) => {
  const [a, b, c, d] = ipv4.split('.').map(Number);
  return `${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
};
for (const [net, prefix] of IPV4_BLOCKED) {
  blocked.addSubnet(net, prefix, 'ipv4');
  // The same networks inside an IPv6 address, which some stacks and relays still deliver to the IPv4 address:
  // IPv4-compatible (::127.0.0.1), IPv4-translated (::ffff:0:127.0.0.1) and 6to4 (2002:7f00:1::). IPv4-mapped
  // (::ffff:127.0.0.1) BlockList checks against the IPv4 rules itself.
  blocked.addSubnet(`::${asIpv6Groups(net)}`, 96 + prefix, 'ipv6');
  blocked.addSubnet(`::ffff:0:${asIpv6Groups(net)}`, 96 + prefix, 'ipv6');
  blocked.addSubnet(`2002:${asIpv6Groups(net)}::`, 16 + prefix, 'ipv6');
}
for (const [net, prefix] of [
  ['::', 128],
  ['::1', 128],
  ['fc00::', 7],
  ['fe80::', 10],
  // Site-local (deprecated by RFC 3879, still routed inside older networks as private addresses).
  ['fec0::', 10],
  ['ff00::', 8],
  // NAT64 (well-known and local-use prefixes) and Teredo: tunnels to an IPv4 address written inside.
  ['64:ff9b::', 96],
  ['64:ff9b:1::', 48],
  ['2001::', 32],
] as const) {
  blocked.addSubnet(net, prefix, 'ipv6');
}

/** Whether an IP address is loopback, private, link-local or otherwise not a public receiver. */
export function isPrivateAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 4) return blocked.check(address, 'ipv4');
  if (family === 6) {
    // IPv4-mapped (::ffff:10.0.0.1) reaches the IPv4 address.
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
    if (mapped) return blocked.check(mapped[1], 'ipv4');
    return blocked.check(address, 'ipv6');
  }
  return true;
}

/** The host of a URL without IPv6 brackets. */
const hostOf = (url: URL) => url.hostname.replace(/^\[(.*)\]$/, '$1');

/** Parses and checks a webhook URL's form: http or https, a host, no credentials. BAD_USER_INPUT otherwise. */
export function checkWebhookUrl(text: string): URL {
  let url: URL;
  try {
    url = new URL(text.trim());
  } catch {
    throw badInput(`"${text}" is not a URL; give the receiver's full address, e.g. https://hooks.example.gov.cn/mulu.`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw badInput(`A webhook URL must start with http:// or https://, got ${url.protocol}//.`);
  if (url.username || url.password)
    throw badInput('A webhook URL must not carry a user name or password; the signature header authenticates Mulu to the receiver.');
  if (!url.hostname) throw badInput('A webhook URL needs a host.');
  return url;
}

/**
 * Checks that a URL's host is not (and does not resolve to) a loopback or
 * private address, unless `allowPrivate`. Used when a webhook is registered;
 * the same check runs again on every connection (`guardedLookup`), since DNS
 * answers can change after registration.
 */
export async function checkReceiverAddress(url: URL, allowPrivate: boolean): Promise<void> {
  if (allowPrivate) return;
  const host = hostOf(url);
  const addresses = isIP(host) ? [host] : await resolveAll(host);
  const refused = addresses.find(isPrivateAddress);
  if (refused) {
    throw badInput(
      `${url.hostname} ${refused === host ? 'is' : `resolves to ${refused}, which is`} a loopback or private address; webhooks may reach such receivers only when the platform administrator allows it (MULU_WEBHOOK_ALLOW_PRIVATE).`,
    );
  }
}

async function resolveAll(host: string): Promise<string[]> {
  return new Promise((resolve, reject) =>
    dnsLookup(host, { all: true }, (error, addresses: LookupAddress[]) => {
      if (error) reject(badInput(`The host ${host} cannot be resolved (${error.code ?? error.message}).`));
      else resolve(addresses.map((a) => a.address));
    }),
  );
}

/**
 * A DNS lookup for http.request that refuses private addresses at connection
 * time: the address checked is the address connected to (no window for a DNS
 * answer to change in between).
 */
export function guardedLookup(allowPrivate: boolean): LookupFunction {
  return (hostname, options, callback) => {
    dnsLookup(hostname, options, (error, address, family) => {
      if (error) return callback(error, address as string, family);
      const list: LookupAddress[] = Array.isArray(address) ? address : [{ address: address as string, family: family ?? 4 }];
      if (!allowPrivate) {
        const refused = list.find((a) => isPrivateAddress(a.address));
        if (refused)
          return callback(
            Object.assign(new Error(`${hostname} resolves to ${refused.address}, a private or loopback address`), { code: 'EPRIVATEADDRESS' }),
            '',
            4,
          );
      }
      if (Array.isArray(address)) callback(null, list as never, undefined as never);
      else callback(null, address as string, family);
    });
  };
}

/** Whether the URL's host is a literal address that must be refused (the lookup is not called for literals). */
export function isRefusedLiteral(url: URL, allowPrivate: boolean): boolean {
  const host = hostOf(url);
  return !allowPrivate && isIP(host) !== 0 && isPrivateAddress(host);
}
