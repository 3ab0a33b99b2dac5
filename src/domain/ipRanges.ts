/**
 * Classification of IP addresses for the SSRF guard (src/http/ssrfGuard.ts): is an address one an
 * outbound request of ours (webhook delivery, partner webhook, URL attachment fetch) may connect to?
 *
 * Pure: no Node built-ins, so the rules are table-tested exhaustively in test/unit/domain.
 *
 * Input is an address as DNS (`dns.lookup`) or the WHATWG URL parser produces it: IPv4 in strict
 * dotted decimal (`127.0.0.1`), IPv6 in any RFC 4291 text form (`::1`, `0:0:0:0:0:0:0:1`,
 * `::ffff:127.0.0.1`), without brackets. Anything else — octal/hex/short IPv4 spellings, leading
 * zeros, zone ids (`fe80::1%eth0`), host names — is not parsed and is reported as blocked: the
 * guard fails closed. Those spellings reach us already canonicalised by `new URL` (which turns
 * `0x7f.1` into `127.0.0.1`), so refusing them here costs nothing.
 *
 * IPv4: blocked are the IANA special-purpose ranges that are not globally reachable (loopback,
 * RFC 1918, link-local incl. the cloud metadata address, CGNAT, documentation, benchmarking,
 * multicast, 240/4, broadcast, "this network").
 * IPv6: only global unicast (2000::/3) is allowed, minus its special-purpose parts; addresses that
 * embed an IPv4 address (IPv4-mapped ::ffff:0:0/96, NAT64 64:ff9b::/96, 6to4 2002::/16) are judged
 * by the embedded IPv4 address.
 */

export type IpVerdict = { blocked: false; reason?: undefined } | { blocked: true; reason: string };

interface Range<T> {
  base: T;
  prefix: number;
  label: string;
}

/** Strict dotted decimal: four parts 0–255, no leading zeros, nothing else. → unsigned 32-bit number. */
export function parseIPv4(text: string): number | null {
  const parts = text.split('.');
  if (parts.length !== 4) return null;
  let value = 0;
  for (const part of parts) {
    if (!/^(0|[1-9][0-9]{0,2})$/.test(part)) return null;
    const octet = Number(part);
    if (octet > 255) return null;
    value = value * 256 + octet;
  }
  return value;
}

export function formatIPv4(value: number): string {
  return [value >>> 24, (value >>> 16) & 0xff, (value >>> 8) & 0xff, value & 0xff].join('.');
}

function parseGroups(text: string, allowTrailingIPv4: boolean): number[] | null {
  if (text === '') return [];
  const parts = text.split(':');
  const groups: number[] = [];
  for (let index = 0; index < parts.length; index++) {
    const part = parts[index];
    if (allowTrailingIPv4 && index === parts.length - 1 && part.includes('.')) {
      const v4 = parseIPv4(part);
      if (v4 === null) return null;
      groups.push(v4 >>> 16, v4 & 0xffff);
    } else {
      if (!/^[0-9a-f]{1,4}$/i.test(part)) return null;
      groups.push(parseInt(part, 16));
    }
  }
  return groups;
}

/**
 * RFC 4291 §2.2 text forms: eight 16-bit hex groups, at most one `::` standing for one or more zero
 * groups, optionally ending in a dotted-decimal IPv4 address. No zone id, no brackets.
 * → 128-bit unsigned bigint.
 */
export function parseIPv6(text: string): bigint | null {
  if (!/^[0-9a-f:.]+$/i.test(text)) return null;
  const halves = text.split('::');
  let groups: number[];
  if (halves.length === 1) {
    const all = parseGroups(text, true);
    if (all === null || all.length !== 8) return null;
    groups = all;
  } else if (halves.length === 2) {
    const head = parseGroups(halves[0], false);
    const tail = parseGroups(halves[1], true);
    if (head === null || tail === null || head.length + tail.length > 7) return null;
    groups = [...head, ...new Array<number>(8 - head.length - tail.length).fill(0), ...tail];
  } else {
    return null;
  }
  return groups.reduce((value, group) => (value << 16n) | BigInt(group), 0n);
}

function v4(cidr: string, label: string): Range<number> {
  const [address, prefix] = cidr.split('/');
  const base = parseIPv4(address);
  if (base === null) throw new Error(`bad IPv4 range ${cidr}`);
  return { base, prefix: Number(prefix), label: `${label} (${cidr})` };
}

function v6(cidr: string, label: string): Range<bigint> {
  const [address, prefix] = cidr.split('/');
  const base = parseIPv6(address);
  if (base === null) throw new Error(`bad IPv6 range ${cidr}`);
  return { base, prefix: Number(prefix), label: `${label} (${cidr})` };
}

function inV4(address: number, range: Range<number>): boolean {
  if (range.prefix === 0) return true;
  const mask = (0xffffffff << (32 - range.prefix)) >>> 0;
  return ((address & mask) >>> 0) === ((range.base & mask) >>> 0);
}

function inV6(address: bigint, range: Range<bigint>): boolean {
  const shift = BigInt(128 - range.prefix);
  return address >> shift === range.base >> shift;
}

/** First match wins: specific entries come before the ranges that contain them. */
const BLOCKED_V4: Range<number>[] = [
  v4('0.0.0.0/32', 'unspecified address'),
  v4('0.0.0.0/8', '"this network" address, RFC 791'),
  v4('10.0.0.0/8', 'private address, RFC 1918'),
  v4('100.64.0.0/10', 'shared address space (carrier-grade NAT), RFC 6598'),
  v4('127.0.0.0/8', 'loopback address'),
  v4('169.254.169.254/32', 'cloud metadata endpoint (link-local)'),
  v4('169.254.0.0/16', 'link-local address'),
  v4('172.16.0.0/12', 'private address, RFC 1918'),
  v4('192.0.0.0/24', 'IETF protocol assignment (reserved), RFC 6890'),
  v4('192.0.2.0/24', 'documentation address (TEST-NET-1)'),
  v4('192.88.99.0/24', 'reserved (former 6to4 relay anycast), RFC 7526'),
  v4('192.168.0.0/16', 'private address, RFC 1918'),
  v4('198.18.0.0/15', 'benchmarking address, RFC 2544'),
  v4('198.51.100.0/24', 'documentation address (TEST-NET-2)'),
  v4('203.0.113.0/24', 'documentation address (TEST-NET-3)'),
  v4('224.0.0.0/4', 'multicast address'),
  v4('255.255.255.255/32', 'limited broadcast address'),
  v4('240.0.0.0/4', 'reserved address (future use), RFC 1112'),
];

const V6_MAPPED = v6('::ffff:0:0/96', 'IPv4-mapped IPv6 address');
const V6_NAT64 = v6('64:ff9b::/96', 'NAT64 IPv6 address');
const V6_6TO4 = v6('2002::/16', '6to4 IPv6 address');
const V6_GLOBAL_UNICAST = v6('2000::/3', 'global unicast');

const BLOCKED_V6: Range<bigint>[] = [
  v6('::/128', 'unspecified address'),
  v6('::1/128', 'loopback address'),
  v6('::/96', 'IPv4-compatible IPv6 address (deprecated), RFC 4291'),
  v6('64:ff9b:1::/48', 'local-use NAT64 address, RFC 8215'),
  v6('100::/64', 'discard-only address, RFC 6666'),
  v6('2001::/32', 'Teredo tunnel address, RFC 4380'),
  v6('2001:db8::/32', 'documentation address'),
  v6('2001::/23', 'IETF protocol assignment (reserved), RFC 2928'),
  v6('3fff::/20', 'documentation address, RFC 9637'),
  v6('fc00::/7', 'unique local address, RFC 4193'),
  v6('fe80::/10', 'link-local address'),
  v6('fec0::/10', 'site-local address (deprecated), RFC 3879'),
  v6('ff00::/8', 'multicast address'),
];

function classifyV4(address: number): IpVerdict {
  const range = BLOCKED_V4.find((candidate) => inV4(address, candidate));
  return range ? { blocked: true, reason: range.label } : { blocked: false };
}

function classifyEmbedded(kind: Range<bigint>, embedded: number): IpVerdict {
  const verdict = classifyV4(embedded);
  return verdict.blocked ? { blocked: true, reason: `${kind.label} embedding ${formatIPv4(embedded)}: ${verdict.reason}` } : verdict;
}

function classifyV6(address: bigint): IpVerdict {
  if (inV6(address, V6_MAPPED)) return classifyEmbedded(V6_MAPPED, Number(address & 0xffffffffn));
  if (inV6(address, V6_NAT64)) return classifyEmbedded(V6_NAT64, Number(address & 0xffffffffn));
  if (inV6(address, V6_6TO4)) return classifyEmbedded(V6_6TO4, Number((address >> 80n) & 0xffffffffn));
  const range = BLOCKED_V6.find((candidate) => inV6(address, candidate));
  if (range) return { blocked: true, reason: range.label };
  if (!inV6(address, V6_GLOBAL_UNICAST)) {
    return { blocked: true, reason: 'not a global unicast address (outside 2000::/3, reserved by IANA)' };
  }
  return { blocked: false };
}

/**
 * Whether an outbound connection to `address` must be refused, and why (the reason names the range,
 * e.g. `loopback address (127.0.0.0/8)`, not the address). Unparseable input is blocked.
 */
export function classifyIp(address: string): IpVerdict {
  const asV4 = parseIPv4(address);
  if (asV4 !== null) return classifyV4(asV4);
  if (address.includes('%')) return { blocked: true, reason: 'scoped IPv6 address (zone id)' };
  const asV6 = parseIPv6(address);
  if (asV6 !== null) return classifyV6(asV6);
  return { blocked: true, reason: 'not an IPv4 (dotted decimal) or IPv6 address' };
}

/** Whether `text` is an IP address literal this module can classify (strict forms, see above). */
export function isIpLiteral(text: string): boolean {
  return parseIPv4(text) !== null || parseIPv6(text) !== null;
}
