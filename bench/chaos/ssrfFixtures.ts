import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import dns2 from 'dns2';

/**
 * The third parties scenario 10 (SSRF) needs, run for real on loopback: a DNS server that answers
 * for our own zone (private answers, a rebinding name), a canary HTTP server every hostile URL
 * points at (it must never be reached), and a redirect server that answers 302 to a hostile URL.
 *
 * The stack has to know two of them before it starts: SSRF_DNS_SERVERS = `servers`, and the
 * redirect server on the allow lists (`env` holds all three settings; merge it into the stack's
 * env). The canary is not on any allow list, so a request that reaches it got through the guard.
 */

export const ZONE = 'ssrf.chaos.test';
/** An address the guard allows: answered for the canary name and by rebinding names at first. */
export const PUBLIC_V4 = '93.184.215.14';
export const PUBLIC_V6 = '2606:2800:21f:cb07:6820:80da:af6b:8b2c';

interface ZoneEntry {
  a?: string[];
  aaaa?: string[];
}

/** Names of the zone and what they resolve to. */
export const ZONE_RECORDS: Record<string, ZoneEntry> = {
  [`loopback.${ZONE}`]: { a: ['127.0.0.1'] },
  [`loopback6.${ZONE}`]: { aaaa: ['::1'] },
  [`private10.${ZONE}`]: { a: ['10.0.0.1'] },
  [`private172.${ZONE}`]: { a: ['172.16.0.1'] },
  [`private192.${ZONE}`]: { a: ['192.168.1.1'] },
  [`cgnat.${ZONE}`]: { a: ['100.64.0.1'] },
  [`linklocal.${ZONE}`]: { a: ['169.254.10.1'] },
  [`metadata.${ZONE}`]: { a: ['169.254.169.254'] },
  [`metadata6.${ZONE}`]: { aaaa: ['fd00:ec2::254'] },
  [`ula.${ZONE}`]: { aaaa: ['fd12:3456:789a::1'] },
  [`linklocal6.${ZONE}`]: { aaaa: ['fe80::1'] },
  [`mapped.${ZONE}`]: { aaaa: ['::ffff:127.0.0.1'] },
  [`unspecified.${ZONE}`]: { a: ['0.0.0.0'] },
  // One good address is not enough: any blocked one refuses the name.
  [`mixed.${ZONE}`]: { a: [PUBLIC_V4], aaaa: ['::1'] },
  // The control: a public-looking name that must pass creation (proves the zone is in use).
  [`canary.${ZONE}`]: { a: [PUBLIC_V4], aaaa: [PUBLIC_V6] },
};

export const REBIND_SUFFIX = `.rebind.${ZONE}`;

/** A fresh rebinding name: public on its first A and AAAA query, 127.0.0.1 / ::1 on every later one. */
export function rebindingName(): string {
  return `r${randomUUID().slice(0, 12)}${REBIND_SUFFIX}`;
}

export interface ChaosDns {
  /** For SSRF_DNS_SERVERS. */
  servers: string;
  /** The zone's fixed names and the rebinding suffix. */
  names: { records: typeof ZONE_RECORDS; rebindSuffix: string; canary: string };
  /** Queries answered, per `name type`. */
  queries: Map<string, number>;
  canary: Canary;
  redirect: RedirectServer;
  /** SSRF_DNS_SERVERS plus the redirect server on both allow lists. */
  env: Record<string, string>;
  close(): Promise<void>;
}

export interface Canary {
  port: number;
  /** TCP connections accepted: a TLS handshake that fails still counts, it got through. */
  connections: number;
  requests: string[];
}

export interface RedirectServer {
  hostPort: string;
  /** An http URL on the redirect server that answers 302 to `location`. */
  urlTo(location: string): string;
  hits: number;
}

const started = new Map<string, ChaosDns>();

/** The fixture that serves `servers` (the stack's SSRF_DNS_SERVERS), if this process started it. */
export function chaosDnsFor(servers: string | undefined): ChaosDns | undefined {
  return servers ? started.get(servers) : undefined;
}

function answerFor(name: string, type: 'A' | 'AAAA', count: number): string[] | null {
  const lower = name.toLowerCase().replace(/\.$/, '');
  if (lower.endsWith(REBIND_SUFFIX)) {
    if (type === 'A') return [count === 1 ? PUBLIC_V4 : '127.0.0.1'];
    return [count === 1 ? PUBLIC_V6 : '::1'];
  }
  const entry = ZONE_RECORDS[lower];
  if (!entry) return null;
  return (type === 'A' ? entry.a : entry.aaaa) ?? [];
}

async function listen(server: http.Server): Promise<number> {
  server.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  return (server.address() as AddressInfo).port;
}

function closeServer(server: http.Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}

export async function startChaosDns(): Promise<ChaosDns> {
  const { Packet } = dns2;
  const queries = new Map<string, number>();
  const dns = dns2.createServer({
    udp: true,
    handle: (request, send) => {
      const response = Packet.createResponseFromRequest(request);
      const [question] = request.questions;
      const type = question?.type === Packet.TYPE.A ? 'A' : question?.type === Packet.TYPE.AAAA ? 'AAAA' : null;
      if (!question || !type) {
        send(response);
        return;
      }
      const key = `${question.name.toLowerCase()} ${type}`;
      const count = (queries.get(key) ?? 0) + 1;
      queries.set(key, count);
      const addresses = answerFor(question.name, type, count);
      if (addresses === null) response.header.rcode = Packet.RCODE.NXDOMAIN;
      for (const address of addresses ?? []) {
        response.answers.push({ name: question.name, type: Packet.TYPE[type], class: Packet.CLASS.IN, ttl: 0, address } as never);
      }
      send(response);
    },
  });
  const addresses = (await dns.listen({ udp: { port: 0, address: '127.0.0.1' } } as never)) as unknown as { udp: AddressInfo };
  const servers = `127.0.0.1:${addresses.udp.port}`;

  const canary: Canary = { port: 0, connections: 0, requests: [] };
  const canaryServer = http.createServer((req, res) => {
    canary.requests.push(`${req.method} ${req.url}`);
    res.end('canary');
  });
  canaryServer.on('connection', () => (canary.connections += 1));
  canary.port = await listen(canaryServer);

  const locations = new Map<string, string>();
  const redirectServer = http.createServer((req, res) => {
    redirect.hits += 1;
    const location = locations.get(new URL(req.url ?? '/', 'http://redirect').pathname);
    if (location) res.writeHead(302, { location }).end();
    else res.writeHead(404).end();
  });
  const redirectPort = await listen(redirectServer);
  const redirect: RedirectServer = {
    hostPort: `127.0.0.1:${redirectPort}`,
    hits: 0,
    urlTo(location) {
      const path = `/r/${randomUUID()}`;
      locations.set(path, location);
      return `http://127.0.0.1:${redirectPort}${path}`;
    },
  };

  const fixture: ChaosDns = {
    servers,
    names: { records: ZONE_RECORDS, rebindSuffix: REBIND_SUFFIX, canary: `canary.${ZONE}` },
    queries,
    canary,
    redirect,
    env: { SSRF_DNS_SERVERS: servers, WEBHOOK_ALLOW_TARGETS: redirect.hostPort, ATTACHMENT_ALLOW_TARGETS: redirect.hostPort },
    async close() {
      started.delete(servers);
      await Promise.all([dns.close(), closeServer(canaryServer), closeServer(redirectServer)]);
    },
  };
  started.set(servers, fixture);
  return fixture;
}

export type TargetClass =
  | 'private'
  | 'loopback'
  | 'link-local'
  | 'metadata'
  | 'ipv6'
  | 'ipv4-mapped'
  | 'odd-ipv4'
  | 'dns-private'
  | 'rebinding'
  | 'redirect';

export interface SsrfTarget {
  /** Short, unique: names the target in violations. */
  label: string;
  class: TargetClass;
  url: string;
  /**
   * Where the guard may first refuse it: `creation` for checks that need no answer from anyone,
   * `resolution` for names (webhook and partner creation resolve them; attachment writes do not),
   * `delivery` for what only the outbound call can see (the rebinding name's second answer, a 302).
   */
  stage: 'creation' | 'resolution' | 'delivery';
  /** The attachment failure code the fetch must end with, when the write accepts the URL. */
  attachmentFailure: 'private_address_blocked' | 'url_unreachable';
}

export interface CorpusInput {
  canaryPort: number;
  /** A URL on the redirect server answering 302 to `location` (ChaosDns.redirect.urlTo). */
  redirectTo(location: string): string;
  /** A fresh rebinding name per call (each is used by one channel only: its first answer is public). */
  rebindingName(): string;
}

/**
 * At least 40 hostile targets, each pointing at the canary's port so that one the guard lets
 * through to loopback is seen there. Pure (given its input), so its size and classes are unit-tested.
 */
export function ssrfCorpus(input: CorpusInput): SsrfTarget[] {
  const port = input.canaryPort;
  const literal = (label: string, cls: TargetClass, host: string, path = '/hook'): SsrfTarget => ({ label, class: cls, url: `https://${host}:${port}${path}`, stage: 'creation', attachmentFailure: 'private_address_blocked' });
  const named = (label: string, host: string): SsrfTarget => ({ label, class: 'dns-private', url: `https://${host}:${port}/hook`, stage: 'resolution', attachmentFailure: 'private_address_blocked' });
  const redirect = (label: string, location: string, failure: SsrfTarget['attachmentFailure'] = 'private_address_blocked'): SsrfTarget => ({
    label,
    class: 'redirect',
    url: input.redirectTo(location),
    stage: 'delivery',
    attachmentFailure: failure,
  });
  return [
    literal('loopback', 'loopback', '127.0.0.1'),
    literal('loopback-other', 'loopback', '127.45.6.7'),
    literal('localhost', 'loopback', 'localhost'),
    literal('localhost-sub', 'loopback', 'api.localhost'),
    literal('localhost-dot', 'loopback', 'localhost.'),
    literal('unspecified', 'loopback', '0.0.0.0'),
    literal('private-10', 'private', '10.0.0.1'),
    literal('private-172', 'private', '172.16.0.1'),
    literal('private-192', 'private', '192.168.1.1'),
    literal('cgnat', 'private', '100.64.0.1'),
    literal('link-local', 'link-local', '169.254.10.1'),
    literal('metadata', 'metadata', '169.254.169.254', '/latest/meta-data/'),
    literal('metadata-v6', 'metadata', '[fd00:ec2::254]', '/latest/meta-data/'),
    literal('metadata-decimal', 'metadata', '2852039166', '/latest/meta-data/'),
    literal('ipv6-loopback', 'ipv6', '[::1]'),
    literal('ipv6-loopback-long', 'ipv6', '[0:0:0:0:0:0:0:1]'),
    literal('ipv6-unspecified', 'ipv6', '[::]'),
    literal('ipv6-ula', 'ipv6', '[fd12:3456:789a::1]'),
    literal('ipv6-link-local', 'ipv6', '[fe80::1]'),
    literal('ipv6-nat64-loopback', 'ipv6', '[64:ff9b::7f00:1]'),
    literal('ipv6-6to4-loopback', 'ipv6', '[2002:7f00:1::]'),
    literal('mapped-dotted', 'ipv4-mapped', '[::ffff:127.0.0.1]'),
    literal('mapped-hex', 'ipv4-mapped', '[::ffff:7f00:1]'),
    literal('mapped-private', 'ipv4-mapped', '[::ffff:10.0.0.1]'),
    literal('mapped-metadata', 'ipv4-mapped', '[::ffff:169.254.169.254]'),
    literal('decimal', 'odd-ipv4', '2130706433'),
    literal('octal', 'odd-ipv4', '0177.0.0.1'),
    literal('hex-dotted', 'odd-ipv4', '0x7f.0.0.1'),
    literal('hex', 'odd-ipv4', '0x7f000001'),
    literal('short', 'odd-ipv4', '127.1'),
    literal('short-private', 'odd-ipv4', '10.1'),
    literal('octal-private', 'odd-ipv4', '012.0.0.1'),
    named('dns-loopback', `loopback.${ZONE}`),
    named('dns-loopback6', `loopback6.${ZONE}`),
    named('dns-private10', `private10.${ZONE}`),
    named('dns-private172', `private172.${ZONE}`),
    named('dns-private192', `private192.${ZONE}`),
    named('dns-cgnat', `cgnat.${ZONE}`),
    named('dns-link-local', `linklocal.${ZONE}`),
    named('dns-metadata', `metadata.${ZONE}`),
    named('dns-metadata6', `metadata6.${ZONE}`),
    named('dns-ula', `ula.${ZONE}`),
    named('dns-link-local6', `linklocal6.${ZONE}`),
    named('dns-mapped', `mapped.${ZONE}`),
    named('dns-unspecified', `unspecified.${ZONE}`),
    named('dns-mixed', `mixed.${ZONE}`),
    { label: 'rebinding', class: 'rebinding', url: `https://${input.rebindingName()}:${port}/hook`, stage: 'delivery', attachmentFailure: 'private_address_blocked' },
    redirect('redirect-loopback', `https://127.0.0.1:${port}/landed`),
    redirect('redirect-loopback-http', `http://127.0.0.1:${port}/landed`, 'url_unreachable'),
    redirect('redirect-metadata', `https://169.254.169.254:${port}/latest/meta-data/`),
    redirect('redirect-ipv6', `https://[::1]:${port}/landed`),
    redirect('redirect-mapped', `https://[::ffff:7f00:1]:${port}/landed`),
    redirect('redirect-decimal', `https://2130706433:${port}/landed`),
    redirect('redirect-dns-private', `https://loopback.${ZONE}:${port}/landed`),
    redirect('redirect-rebinding', `https://${input.rebindingName()}:${port}/landed`),
  ];
}
