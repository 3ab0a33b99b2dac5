/**
 * SSRF guard for every outbound HTTP call of Immoflow (webhook deliveries, partner webhooks, URL
 * attachment fetches).
 *
 * Policy:
 * - `https:` only. Plain `http:` only for targets on the allow list (WEBHOOK_ALLOW_TARGETS,
 *   `host:port` entries, a dev/test setting). Allow-listed targets also skip the address check —
 *   that is what lets tests and `make dev` deliver to 127.0.0.1.
 * - No credentials in the URL (`https://user:pass@host/`).
 * - Any port is allowed for https (partners run webhooks on 8443 and the like); the address check
 *   is what keeps us off internal services, not the port.
 * - The host must not be, or resolve to, a blocked address (src/domain/ipRanges.ts). A host name
 *   is refused if ANY of its addresses is blocked. `localhost` and `*.localhost` are refused by name.
 * - Odd IPv4 spellings (`2130706433`, `0x7f.1`, `0177.0.0.1`, `127.1`) are canonicalised to dotted
 *   decimal by the WHATWG URL parser (`new URL`) before they are judged.
 *
 * Two places apply it:
 * - `checkUrl`, when a URL is accepted (e.g. a webhook endpoint on POST), for a clear 422.
 * - `createGuardedDispatcher`, on every new connection: its connector resolves the host itself,
 *   judges every address and connects the socket to the judged address (TLS name checks still use
 *   the host name). A name that resolved to a public address at `checkUrl` time and to 127.0.0.1
 *   now (DNS rebinding) is refused here — the connect-time resolution is the one that counts.
 *   This is a whole `connect` function rather than a `connect.lookup` hook because Node skips
 *   `lookup` for IP literals, so a lookup hook alone would let `https://127.0.0.1/` through.
 *
 * `guardedFetch` does both, never follows redirects (a 3xx is returned to the caller as is) and
 * enforces a timeout.
 */
import { Resolver as DnsResolver, lookup } from 'node:dns/promises';
import { Agent, buildConnector, fetch, type RequestInit, type Response } from 'undici';
import { classifyIp, isIpLiteral } from '../domain/ipRanges';

/** Host name → its IP addresses (all of them). */
export type Resolver = (hostname: string) => Promise<string[]>;

export interface SsrfPolicy {
  /** `host:port` entries that may use http and skip the address check (WEBHOOK_ALLOW_TARGETS). */
  allowTargets: string[];
  /** Defaults to `dns.lookup(host, { all: true })`; injectable for tests. */
  resolve?: Resolver;
}

export type CheckUrlResult =
  | { ok: true; url: URL; addresses: string[]; allowListed: boolean }
  | { ok: false; reason: string; kind?: SsrfBlockKind };

/** Why the guard refused: a blocked address or name, a host that does not resolve, or the URL policy. */
export type SsrfBlockKind = 'blocked_address' | 'unresolvable' | 'policy';

/** Raised (or given as the `cause`) when the guard refuses a URL or a connection. */
export class SsrfBlockedError extends Error {
  readonly code = 'ERR_SSRF_BLOCKED';
  constructor(
    readonly reason: string,
    readonly kind: SsrfBlockKind = 'policy',
  ) {
    super(`outbound request blocked: ${reason}`);
    this.name = 'SsrfBlockedError';
  }
}

export const defaultResolve: Resolver = async (hostname) =>
  (await lookup(hostname, { all: true, verbatim: true })).map((entry) => entry.address);

/** Answers that mean "no record of this type", as opposed to a failure to get an answer. */
const NO_RECORDS = new Set(['ENODATA', 'ENOTFOUND']);

/**
 * Host name → every A and AAAA address, asked of these DNS servers (`ip:port`) instead of the
 * system resolver (SSRF_DNS_SERVERS). Fails closed: if either family's query fails for any reason
 * other than "no such records", the name counts as unresolvable, because an address we could not
 * see is an address we could not judge. /etc/hosts is not consulted.
 */
export function dnsServersResolver(servers: string[]): Resolver {
  const dns = new DnsResolver({ timeout: 2_000, tries: 2 });
  dns.setServers(servers);
  return async (hostname) => {
    const [v4, v6] = await Promise.allSettled([dns.resolve4(hostname), dns.resolve6(hostname)]);
    const addresses: string[] = [];
    let noRecords: unknown;
    for (const answer of [v4, v6]) {
      if (answer.status === 'fulfilled') addresses.push(...answer.value);
      else if (NO_RECORDS.has((answer.reason as { code?: string }).code ?? '')) noRecords = answer.reason;
      else throw answer.reason;
    }
    if (addresses.length === 0 && noRecords) throw noRecords;
    return addresses;
  };
}

const configuredResolvers = new Map<string, Resolver>();

/**
 * The resolver every guarded path of a process uses: SSRF_DNS_SERVERS when set, else undefined
 * (the guard's default, getaddrinfo). One Resolver per server list, shared.
 */
export function resolverFromConfig(config: { SSRF_DNS_SERVERS: string[] }): Resolver | undefined {
  if (config.SSRF_DNS_SERVERS.length === 0) return undefined;
  const key = config.SSRF_DNS_SERVERS.join(',');
  let resolver = configuredResolvers.get(key);
  if (!resolver) {
    resolver = dnsServersResolver(config.SSRF_DNS_SERVERS);
    configuredResolvers.set(key, resolver);
  }
  return resolver;
}

function defaultPort(protocol: string): string {
  return protocol === 'https:' ? '443' : protocol === 'http:' ? '80' : '';
}

/** `hostname` as the URL parser gives it (IPv6 in brackets) or as undici's connector does (without). */
function targetKey(hostname: string, port: string): string {
  const host = hostname.includes(':') && !hostname.startsWith('[') ? `[${hostname}]` : hostname;
  return `${host}:${port}`;
}

function unbracket(hostname: string): string {
  return hostname.startsWith('[') && hostname.endsWith(']') ? hostname.slice(1, -1) : hostname;
}

/**
 * Canonical `host:port` keys of the allow list, host spelled as the URL parser spells it
 * (lower case, punycode, dotted-decimal IPv4, compressed IPv6 in brackets).
 * Throws on an entry that is not `host:port` — a configuration error, not a refused URL.
 */
export function normalizeAllowTargets(entries: string[]): Set<string> {
  const keys = new Set<string>();
  for (const raw of entries) {
    const entry = raw.trim();
    if (entry === '') continue;
    const port = /:(\d{1,5})$/.exec(entry)?.[1];
    let parsed: URL | undefined;
    try {
      parsed = new URL(`http://${entry}`);
    } catch {
      parsed = undefined;
    }
    if (!port || Number(port) > 65535 || !parsed || parsed.pathname !== '/' || parsed.username || parsed.password) {
      throw new TypeError(`allow-list entry ${JSON.stringify(entry)} is not host:port (e.g. 127.0.0.1:4000)`);
    }
    keys.add(targetKey(parsed.hostname, String(Number(port))));
  }
  return keys;
}

type HostVerdict = { ok: true; addresses: string[] } | { ok: false; reason: string; kind: SsrfBlockKind };

/** Resolves `hostname` (no brackets) and judges every address; IP literals are judged as they are. */
async function judgeHost(hostname: string, resolve: Resolver): Promise<HostVerdict> {
  if (isIpLiteral(hostname)) {
    const verdict = classifyIp(hostname);
    return verdict.blocked ? { ok: false, reason: `${hostname} is a blocked address: ${verdict.reason}`, kind: 'blocked_address' } : { ok: true, addresses: [hostname] };
  }
  const name = hostname.toLowerCase().replace(/\.$/, '');
  if (name === 'localhost' || name.endsWith('.localhost')) {
    return { ok: false, reason: `${hostname} is a loopback host name`, kind: 'blocked_address' };
  }
  let addresses: string[];
  try {
    addresses = await resolve(hostname);
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    return { ok: false, reason: `${hostname} could not be resolved${typeof code === 'string' ? ` (${code})` : ''}`, kind: 'unresolvable' };
  }
  if (addresses.length === 0) return { ok: false, reason: `${hostname} resolves to no address`, kind: 'unresolvable' };
  for (const address of addresses) {
    const verdict = classifyIp(address);
    if (verdict.blocked) return { ok: false, reason: `${hostname} resolves to the blocked address ${address}: ${verdict.reason}`, kind: 'blocked_address' };
  }
  return { ok: true, addresses };
}

/**
 * The checks that need no DNS: scheme, credentials, allow list, and IP literals and `localhost`
 * names judged as they are. A host name that passes still has to pass resolution (`checkUrl`,
 * and the connect-time guard). For writes that must not wait on DNS (attachment URLs).
 */
export function checkUrlStatic(url: string, opts: Pick<SsrfPolicy, 'allowTargets'>): CheckUrlResult {
  const allowed = normalizeAllowTargets(opts.allowTargets);
  // The URL parser drops tabs and line breaks silently, so the URL judged would not be the one stored.
  if (/[\s\u0000-\u001f\u007f]/.test(url)) return { ok: false, reason: 'must not contain whitespace, line breaks or control characters (percent-encode them)' };
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return { ok: false, reason: 'not a valid absolute URL' };
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') {
    return { ok: false, reason: `scheme ${parsed.protocol.replace(/:$/, '')} is not allowed (https only)` };
  }
  if (parsed.username || parsed.password) {
    return { ok: false, reason: 'URLs with credentials (user:password@) are not allowed' };
  }
  const host = unbracket(parsed.hostname);
  const port = parsed.port || defaultPort(parsed.protocol);
  if (allowed.has(targetKey(parsed.hostname, port))) {
    return { ok: true, url: parsed, addresses: isIpLiteral(host) ? [host] : [], allowListed: true };
  }
  if (parsed.protocol !== 'https:') {
    return { ok: false, reason: `plain http is only allowed for allow-listed targets; ${targetKey(parsed.hostname, port)} is not one (use https)` };
  }
  if (isIpLiteral(host)) {
    const verdict = classifyIp(host);
    if (verdict.blocked) return { ok: false, reason: `${host} is a blocked address: ${verdict.reason}`, kind: 'blocked_address' };
    return { ok: true, url: parsed, addresses: [host], allowListed: false };
  }
  const name = host.toLowerCase().replace(/\.$/, '');
  if (name === 'localhost' || name.endsWith('.localhost')) return { ok: false, reason: `${host} is a loopback host name`, kind: 'blocked_address' };
  return { ok: true, url: parsed, addresses: [], allowListed: false };
}

/** Validation when a URL is accepted (e.g. POST of a webhook endpoint). Resolves the host once. */
export async function checkUrl(url: string, opts: SsrfPolicy): Promise<CheckUrlResult> {
  const shape = checkUrlStatic(url, opts);
  // Callers of checkUrl report the reason; the block kind is for the fetchers' failure codes.
  if (!shape.ok) return { ok: false, reason: shape.reason };
  if (shape.allowListed || shape.addresses.length > 0) return shape;
  const verdict = await judgeHost(unbracket(shape.url.hostname), opts.resolve ?? defaultResolve);
  if (!verdict.ok) return { ok: false, reason: verdict.reason };
  return { ok: true, url: shape.url, addresses: verdict.addresses, allowListed: false };
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

export interface GuardedDispatcherOptions extends SsrfPolicy {
  /** Budget for resolving the host plus the TCP/TLS handshake (each); default 10 s. */
  connectTimeoutMs?: number;
  /** Other undici Agent options (pool sizes, keep-alive, …); `connect` is the guard's. */
  agentOptions?: Omit<Agent.Options, 'connect'>;
}

/**
 * The connector behind `createGuardedDispatcher`, exported for tests: refuses blocked targets and
 * hands `base` the judged address as `hostname` (pinning) while `servername` stays the host name.
 */
export function createGuardedConnector(
  opts: Omit<GuardedDispatcherOptions, 'agentOptions'>,
  base: buildConnector.connector = buildConnector({ timeout: opts.connectTimeoutMs ?? 10_000 }),
): buildConnector.connector {
  const allowed = normalizeAllowTargets(opts.allowTargets);
  const resolve = opts.resolve ?? defaultResolve;
  const timeoutMs = opts.connectTimeoutMs ?? 10_000;
  return (options, callback) => {
    const hostname = unbracket(options.hostname);
    const key = targetKey(hostname, options.port || defaultPort(options.protocol));
    if (allowed.has(key)) {
      base(options, callback);
      return;
    }
    if (options.protocol !== 'https:') {
      callback(new SsrfBlockedError(`plain http is only allowed for allow-listed targets; ${key} is not one`), null);
      return;
    }
    withTimeout(judgeHost(hostname, resolve), timeoutMs, `resolving ${hostname}`).then(
      (verdict) => {
        if (!verdict.ok) {
          callback(new SsrfBlockedError(verdict.reason, verdict.kind), null);
          return;
        }
        const servername = options.servername || (isIpLiteral(hostname) ? undefined : hostname);
        base({ ...options, hostname: verdict.addresses[0], servername }, callback);
      },
      (error: Error) => callback(error, null),
    );
  };
}

/**
 * An undici Agent whose every new connection goes through the guard (see the module comment).
 * Create one per process (or per policy) and reuse it: connections are pooled per origin, and a
 * pooled socket stays on the address it was judged with.
 */
export function createGuardedDispatcher(opts: GuardedDispatcherOptions): Agent {
  return new Agent({ ...opts.agentOptions, connect: createGuardedConnector(opts) });
}

export interface GuardedFetchOptions extends GuardedDispatcherOptions {
  /** Whole request budget: connect, send, response headers and body. */
  timeoutMs: number;
  /**
   * A dispatcher from `createGuardedDispatcher` to reuse (recommended). Without one, a dispatcher
   * for this call is created from the same options and closed (gracefully) afterwards.
   */
  dispatcher?: Agent;
}

/**
 * `fetch` through the guard: `checkUrl` first (clear reason), then the request over a guarded
 * dispatcher (connect-time check and pinning), `redirect: 'manual'` (a 3xx comes back to the
 * caller; nothing is followed), aborted after `timeoutMs`.
 * Throws `SsrfBlockedError` when the guard refuses, the abort reason (a `TimeoutError`) on timeout.
 */
export async function guardedFetch(url: string | URL, init: RequestInit = {}, opts: GuardedFetchOptions): Promise<Response> {
  const checked = await checkUrl(String(url), opts);
  if (!checked.ok) throw new SsrfBlockedError(checked.reason, checked.kind);
  const dispatcher = opts.dispatcher ?? createGuardedDispatcher(opts);
  const timeout = AbortSignal.timeout(opts.timeoutMs);
  const signal = init.signal ? AbortSignal.any([init.signal, timeout]) : timeout;
  try {
    return await fetch(checked.url, { ...init, dispatcher, redirect: 'manual', signal });
  } catch (error) {
    const cause = (error as { cause?: unknown }).cause;
    if (cause instanceof SsrfBlockedError) throw cause;
    throw error;
  } finally {
    // Graceful: lets this call's response body finish before the sockets go.
    if (!opts.dispatcher) void dispatcher.close().catch(() => undefined);
  }
}
