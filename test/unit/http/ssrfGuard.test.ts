import type { Socket } from 'node:net';
import type { buildConnector } from 'undici';
import {
  SsrfBlockedError,
  checkUrl,
  checkUrlStatic,
  createGuardedConnector,
  normalizeAllowTargets,
  type Resolver,
} from '../../../src/http/ssrfGuard';

/** A resolver from a fixed table; unknown names fail like dns.lookup does. */
function resolverOf(table: Record<string, string[]>): jest.Mock<Promise<string[]>, [string]> {
  return jest.fn(async (hostname: string) => {
    const addresses = table[hostname];
    if (!addresses) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' });
    return addresses;
  });
}

const neverResolve: Resolver = async (hostname) => {
  throw new Error(`the resolver must not be asked about ${hostname}`);
};

const PUBLIC = '93.184.215.14';

describe('checkUrl: host names are judged by every address they resolve to', () => {
  it('accepts an https URL whose host resolves only to public addresses, and reports them', async () => {
    const resolve = resolverOf({ 'hooks.example.com': [PUBLIC, '2606:4700::1111'] });
    const result = await checkUrl('https://hooks.example.com/immoflow?x=1', { allowTargets: [], resolve });
    expect(result).toMatchObject({ ok: true, addresses: [PUBLIC, '2606:4700::1111'], allowListed: false });
    expect(result.ok && result.url.href).toBe('https://hooks.example.com/immoflow?x=1');
    expect(resolve).toHaveBeenCalledWith('hooks.example.com');
  });

  it('rejects a host resolving to 10.0.0.1', async () => {
    const resolve = resolverOf({ 'hooks.example.com': ['10.0.0.1'] });
    expect(await checkUrl('https://hooks.example.com/', { allowTargets: [], resolve })).toEqual({
      ok: false,
      reason: 'hooks.example.com resolves to the blocked address 10.0.0.1: private address, RFC 1918 (10.0.0.0/8)',
    });
  });

  it.each([
    [[PUBLIC, '10.0.0.1'], '10.0.0.1'],
    [['10.0.0.1', PUBLIC], '10.0.0.1'],
    [[PUBLIC, '2606:4700::1111', '169.254.169.254'], '169.254.169.254'],
    [['2606:4700::1111', '::1'], '::1'],
    [['2606:4700::1111', 'fd00:ec2::254'], 'fd00:ec2::254'],
    [[PUBLIC, '::ffff:127.0.0.1'], '::ffff:127.0.0.1'],
    [[PUBLIC, 'not-an-address'], 'not-an-address'],
  ])('rejects a host resolving to a mix of public and blocked addresses %j', async (addresses, culprit) => {
    const resolve = resolverOf({ 'hooks.example.com': addresses });
    const result = await checkUrl('https://hooks.example.com/', { allowTargets: [], resolve });
    expect(result.ok).toBe(false);
    expect(!result.ok && result.reason).toContain(`resolves to the blocked address ${culprit}: `);
  });

  it('rejects a host that does not resolve, or resolves to nothing', async () => {
    const resolve = resolverOf({ 'empty.example.com': [] });
    expect(await checkUrl('https://nx.example.com/', { allowTargets: [], resolve })).toEqual({
      ok: false,
      reason: 'nx.example.com could not be resolved (ENOTFOUND)',
    });
    expect(await checkUrl('https://empty.example.com/', { allowTargets: [], resolve })).toEqual({
      ok: false,
      reason: 'empty.example.com resolves to no address',
    });
  });

  it.each(['https://localhost/', 'https://LOCALHOST:8443/', 'https://api.localhost/', 'https://localhost./'])(
    'rejects %s by name, without asking DNS',
    async (url) => {
      const result = await checkUrl(url, { allowTargets: [], resolve: neverResolve });
      expect(result.ok).toBe(false);
      expect(!result.ok && result.reason).toMatch(/localhost\.? is a loopback host name$/);
    },
  );

  it('allows any port for https', async () => {
    const resolve = resolverOf({ 'hooks.example.com': [PUBLIC] });
    expect(await checkUrl('https://hooks.example.com:8443/', { allowTargets: [], resolve })).toMatchObject({ ok: true });
    expect(await checkUrl('https://hooks.example.com:22/', { allowTargets: [], resolve })).toMatchObject({ ok: true });
  });
});

describe('checkUrl: schemes and credentials', () => {
  it('rejects plain http to a public host that is not allow-listed', async () => {
    const resolve = resolverOf({ 'hooks.example.com': [PUBLIC] });
    expect(await checkUrl('http://hooks.example.com/', { allowTargets: [], resolve })).toEqual({
      ok: false,
      reason: 'plain http is only allowed for allow-listed targets; hooks.example.com:80 is not one (use https)',
    });
    expect(resolve).not.toHaveBeenCalled();
  });

  it('accepts plain http for an allow-listed host:port, without resolving or judging the address', async () => {
    const opts = { allowTargets: ['127.0.0.1:4000', 'hooks.example.com:80'], resolve: neverResolve };
    expect(await checkUrl('http://127.0.0.1:4000/hook', opts)).toMatchObject({ ok: true, addresses: ['127.0.0.1'], allowListed: true });
    expect(await checkUrl('http://hooks.example.com/hook', opts)).toMatchObject({ ok: true, addresses: [], allowListed: true });
    expect(await checkUrl('https://127.0.0.1:4000/hook', opts)).toMatchObject({ ok: true, allowListed: true });
  });

  it('matches the allow list on host AND port', async () => {
    const opts = { allowTargets: ['127.0.0.1:4000'], resolve: neverResolve };
    expect(await checkUrl('http://127.0.0.1:4001/', opts)).toMatchObject({ ok: false, reason: expect.stringContaining('127.0.0.1:4001 is not one') });
    expect(await checkUrl('http://127.0.0.2:4000/', opts)).toMatchObject({ ok: false });
    expect(await checkUrl('https://127.0.0.1/', opts)).toEqual({ ok: false, reason: '127.0.0.1 is a blocked address: loopback address (127.0.0.0/8)' });
  });

  it('compares allow-list entries in canonical form (case, IPv4 and IPv6 spellings, default ports)', async () => {
    const opts = { allowTargets: [' LocalHost:4000 ', '[0:0:0:0:0:0:0:1]:4000', '127.0.0.1:80', ''], resolve: neverResolve };
    expect(await checkUrl('http://localhost:4000/', opts)).toMatchObject({ ok: true });
    expect(await checkUrl('http://[::1]:4000/', opts)).toMatchObject({ ok: true });
    expect(await checkUrl('http://2130706433/', opts)).toMatchObject({ ok: true });
    expect(await checkUrl('http://127.0.0.1:80/', opts)).toMatchObject({ ok: true });
    expect([...normalizeAllowTargets(opts.allowTargets)]).toEqual(['localhost:4000', '[::1]:4000', '127.0.0.1:80']);
  });

  it.each(['127.0.0.1', 'localhost', 'http://127.0.0.1:4000', '127.0.0.1:4000/path', 'user@127.0.0.1:4000', '127.0.0.1:99999', ':4000'])(
    'refuses the malformed allow-list entry %j loudly',
    async (entry) => {
      expect(() => normalizeAllowTargets([entry])).toThrow(/is not host:port/);
      await expect(checkUrl('https://hooks.example.com/', { allowTargets: [entry], resolve: neverResolve })).rejects.toThrow(/is not host:port/);
    },
  );

  it.each(['https://user:pass@hooks.example.com/', 'https://user@hooks.example.com/', 'https://:pass@hooks.example.com/', 'http://user:pass@127.0.0.1:4000/'])(
    'rejects credentials in %s (even for allow-listed targets)',
    async (url) => {
      const resolve = resolverOf({ 'hooks.example.com': [PUBLIC] });
      expect(await checkUrl(url, { allowTargets: ['127.0.0.1:4000'], resolve })).toEqual({
        ok: false,
        reason: 'URLs with credentials (user:password@) are not allowed',
      });
    },
  );

  it.each([
    ['ftp://hooks.example.com/', 'scheme ftp is not allowed (https only)'],
    ['file:///etc/passwd', 'scheme file is not allowed (https only)'],
    ['gopher://127.0.0.1:6379/_INFO', 'scheme gopher is not allowed (https only)'],
    ['ws://hooks.example.com/', 'scheme ws is not allowed (https only)'],
    ['data:text/plain,hello', 'scheme data is not allowed (https only)'],
    ['javascript:alert(1)', 'scheme javascript is not allowed (https only)'],
    ['/relative/path', 'not a valid absolute URL'],
    ['https://', 'not a valid absolute URL'],
    ['https://1.2.3.256/', 'not a valid absolute URL'],
    ['', 'not a valid absolute URL'],
  ])('rejects %j', async (url, reason) => {
    expect(await checkUrl(url, { allowTargets: [], resolve: neverResolve })).toEqual({ ok: false, reason });
  });
});

describe('checkUrl: odd IP spellings are canonicalised by the URL parser, then judged', () => {
  const LOOPBACK = '127.0.0.1 is a blocked address: loopback address (127.0.0.0/8)';
  it.each([
    ['https://2130706433/', LOOPBACK],
    ['https://0x7f.0.0.1/', LOOPBACK],
    ['https://0x7f000001/', LOOPBACK],
    ['https://0177.0.0.1/', LOOPBACK],
    ['https://017700000001/', LOOPBACK],
    ['https://127.1/', LOOPBACK],
    ['https://127.0.1/', LOOPBACK],
    ['https://127.0.0.1./', LOOPBACK],
    ['https://%31%32%37.0.0.1/', LOOPBACK],
    ['https://１２７.０.０.１/', LOOPBACK],
    ['https://0/', '0.0.0.0 is a blocked address: unspecified address (0.0.0.0/32)'],
    ['https://0xa9.0xfe.0xa9.0xfe/', '169.254.169.254 is a blocked address: cloud metadata endpoint (link-local) (169.254.169.254/32)'],
    ['https://2852039166/', '169.254.169.254 is a blocked address: cloud metadata endpoint (link-local) (169.254.169.254/32)'],
    ['https://012.0.0.1/', '10.0.0.1 is a blocked address: private address, RFC 1918 (10.0.0.0/8)'],
    ['https://[::1]/', '::1 is a blocked address: loopback address (::1/128)'],
    ['https://[0:0:0:0:0:0:0:1]:8443/', '::1 is a blocked address: loopback address (::1/128)'],
    ['https://[::]/', ':: is a blocked address: unspecified address (::/128)'],
    ['https://[::ffff:127.0.0.1]/', '::ffff:7f00:1 is a blocked address: IPv4-mapped IPv6 address (::ffff:0:0/96) embedding 127.0.0.1: loopback address (127.0.0.0/8)'],
    ['https://[::ffff:a9fe:a9fe]/', '::ffff:a9fe:a9fe is a blocked address: IPv4-mapped IPv6 address (::ffff:0:0/96) embedding 169.254.169.254: cloud metadata endpoint (link-local) (169.254.169.254/32)'],
    ['https://[64:ff9b::10.0.0.1]/', '64:ff9b::a00:1 is a blocked address: NAT64 IPv6 address (64:ff9b::/96) embedding 10.0.0.1: private address, RFC 1918 (10.0.0.0/8)'],
    ['https://[2002:7f00:1::]/', '2002:7f00:1:: is a blocked address: 6to4 IPv6 address (2002::/16) embedding 127.0.0.1: loopback address (127.0.0.0/8)'],
    ['https://[fe80::1]/', 'fe80::1 is a blocked address: link-local address (fe80::/10)'],
    ['https://[fd00:ec2::254]/', 'fd00:ec2::254 is a blocked address: unique local address, RFC 4193 (fc00::/7)'],
    ['https://100.64.0.1/', '100.64.0.1 is a blocked address: shared address space (carrier-grade NAT), RFC 6598 (100.64.0.0/10)'],
    ['https://224.0.0.1/', '224.0.0.1 is a blocked address: multicast address (224.0.0.0/4)'],
    ['https://255.255.255.255/', '255.255.255.255 is a blocked address: limited broadcast address (255.255.255.255/32)'],
  ])('%s → %s (without asking DNS)', async (url, reason) => {
    expect(await checkUrl(url, { allowTargets: [], resolve: neverResolve })).toEqual({ ok: false, reason });
  });

  it.each(['http://2130706433/', 'http://0x7f.0.0.1/', 'http://0177.0.0.1/', 'http://127.1/'])('rejects %s (plain http, not allow-listed)', async (url) => {
    expect(await checkUrl(url, { allowTargets: [], resolve: neverResolve })).toEqual({
      ok: false,
      reason: 'plain http is only allowed for allow-listed targets; 127.0.0.1:80 is not one (use https)',
    });
  });

  it('accepts public IP literals', async () => {
    expect(await checkUrl('https://8.8.8.8/', { allowTargets: [], resolve: neverResolve })).toMatchObject({ ok: true, addresses: ['8.8.8.8'] });
    expect(await checkUrl('https://134744072/', { allowTargets: [], resolve: neverResolve })).toMatchObject({ ok: true, addresses: ['8.8.8.8'] });
    expect(await checkUrl('https://[2606:4700::1111]/', { allowTargets: [], resolve: neverResolve })).toMatchObject({
      ok: true,
      addresses: ['2606:4700::1111'],
    });
  });
});

describe('createGuardedConnector: the connect-time check', () => {
  type Outcome = { error: Error | null; socket: unknown };
  const fakeSocket = { fake: 'socket' } as unknown as Socket;

  function setUp(resolve: Resolver, allowTargets: string[] = [], connectTimeoutMs?: number) {
    const base = jest.fn<void, [buildConnector.Options, buildConnector.Callback]>((_options, callback) => callback(null, fakeSocket));
    const connect = createGuardedConnector({ allowTargets, resolve, connectTimeoutMs }, base);
    const run = (options: buildConnector.Options) =>
      new Promise<Outcome>((done) => connect(options, (error, socket) => done({ error, socket })));
    return { base, run };
  }

  const target = (hostname: string, protocol = 'https:', port = ''): buildConnector.Options => ({
    hostname,
    host: port ? `${hostname}:${port}` : hostname,
    protocol,
    port,
  });

  it('pins the socket to the address it judged, keeping the host name for TLS (SNI, certificate)', async () => {
    const { base, run } = setUp(resolverOf({ 'hooks.example.com': [PUBLIC, '2606:4700::1111'] }));
    const outcome = await run(target('hooks.example.com', 'https:', '8443'));
    expect(outcome).toEqual({ error: null, socket: fakeSocket });
    expect(base).toHaveBeenCalledTimes(1);
    expect(base.mock.calls[0][0]).toEqual({
      hostname: PUBLIC,
      host: 'hooks.example.com:8443',
      protocol: 'https:',
      port: '8443',
      servername: 'hooks.example.com',
    });
  });

  it('resolves afresh at connect time and refuses when the host now resolves to a blocked address', async () => {
    const resolve = jest.fn<Promise<string[]>, [string]>().mockResolvedValueOnce([PUBLIC]).mockResolvedValueOnce(['127.0.0.1']);
    const { base, run } = setUp(resolve);
    expect((await run(target('rebind.example.com'))).error).toBeNull();
    const second = await run(target('rebind.example.com'));
    expect(second.error).toBeInstanceOf(SsrfBlockedError);
    expect((second.error as SsrfBlockedError).reason).toBe(
      'rebind.example.com resolves to the blocked address 127.0.0.1: loopback address (127.0.0.0/8)',
    );
    expect(resolve).toHaveBeenCalledTimes(2);
    expect(base).toHaveBeenCalledTimes(1);
  });

  it.each([
    ['127.0.0.1', '127.0.0.1 is a blocked address: loopback address (127.0.0.0/8)'],
    ['169.254.169.254', '169.254.169.254 is a blocked address: cloud metadata endpoint (link-local) (169.254.169.254/32)'],
    ['::1', '::1 is a blocked address: loopback address (::1/128)'],
    ['::ffff:7f00:1', '::ffff:7f00:1 is a blocked address: IPv4-mapped IPv6 address (::ffff:0:0/96) embedding 127.0.0.1: loopback address (127.0.0.0/8)'],
  ])('refuses the IP literal %s (which a lookup hook would never see)', async (hostname, reason) => {
    const { base, run } = setUp(neverResolve);
    const outcome = await run(target(hostname));
    expect(outcome.error).toBeInstanceOf(SsrfBlockedError);
    expect((outcome.error as SsrfBlockedError).reason).toBe(reason);
    expect(base).not.toHaveBeenCalled();
  });

  it('connects to a public IP literal as it is, without a server name', async () => {
    const { base, run } = setUp(neverResolve);
    expect((await run(target('2606:4700::1111'))).error).toBeNull();
    expect(base.mock.calls[0][0]).toMatchObject({ hostname: '2606:4700::1111', servername: undefined });
  });

  it('refuses plain http unless allow-listed', async () => {
    const { base, run } = setUp(resolverOf({ 'hooks.example.com': [PUBLIC] }));
    const outcome = await run(target('hooks.example.com', 'http:'));
    expect(outcome.error).toBeInstanceOf(SsrfBlockedError);
    expect(outcome.error?.message).toBe(
      'outbound request blocked: plain http is only allowed for allow-listed targets; hooks.example.com:80 is not one',
    );
    expect(base).not.toHaveBeenCalled();
  });

  it('passes allow-listed targets through untouched (http, loopback, IPv6 without brackets as undici gives it)', async () => {
    const { base, run } = setUp(neverResolve, ['127.0.0.1:4000', '[::1]:4000', 'localhost:443']);
    for (const options of [target('127.0.0.1', 'http:', '4000'), target('::1', 'http:', '4000'), target('localhost', 'https:')]) {
      expect((await run(options)).error).toBeNull();
      expect(base).toHaveBeenLastCalledWith(options, expect.any(Function));
    }
    const notListed = await run(target('127.0.0.1', 'http:', '4001'));
    expect(notListed.error).toBeInstanceOf(SsrfBlockedError);
  });

  it('gives up on a resolver that hangs', async () => {
    const { base, run } = setUp(() => new Promise<string[]>(() => undefined), [], 50);
    const outcome = await run(target('slow.example.com'));
    expect(outcome.error?.message).toBe('resolving slow.example.com timed out after 50 ms');
    expect(base).not.toHaveBeenCalled();
  });
});

describe('checkUrlStatic: the checks that need no DNS (attachment URLs at write time)', () => {
  it('judges IP literals and localhost names, and leaves host names to resolution', () => {
    expect(checkUrlStatic('https://127.0.0.1/a.jpg', { allowTargets: [] })).toMatchObject({ ok: false, kind: 'blocked_address' });
    expect(checkUrlStatic('https://[::1]/a.jpg', { allowTargets: [] })).toMatchObject({ ok: false, kind: 'blocked_address' });
    expect(checkUrlStatic('https://2130706433/a.jpg', { allowTargets: [] })).toMatchObject({ ok: false, kind: 'blocked_address' });
    expect(checkUrlStatic('https://files.localhost/a.jpg', { allowTargets: [] })).toMatchObject({ ok: false, kind: 'blocked_address' });
    expect(checkUrlStatic('https://user:pw@cdn.example.com/a.jpg', { allowTargets: [] })).toMatchObject({ ok: false });
    expect(checkUrlStatic('http://cdn.example.com/a.jpg', { allowTargets: [] })).toMatchObject({ ok: false, reason: expect.stringContaining('use https') });
    expect(checkUrlStatic('https://cdn.example.com/a.jpg', { allowTargets: [] })).toMatchObject({ ok: true, addresses: [], allowListed: false });
    expect(checkUrlStatic('https://93.184.216.34/a.jpg', { allowTargets: [] })).toMatchObject({ ok: true, addresses: ['93.184.216.34'] });
    expect(checkUrlStatic('http://127.0.0.1:4000/a.jpg', { allowTargets: ['127.0.0.1:4000'] })).toMatchObject({ ok: true, allowListed: true });
  });

  it('refuses whitespace and control characters the URL parser would drop, so the URL judged is the URL stored', () => {
    // new URL() strips these: 'https://cdn.exa\nmple.com' would be judged as cdn.example.com.
    for (const url of ['https://cdn.exa\nmple.com/a.jpg', 'https://cdn.example.com/a\r\n.jpg', 'https://cdn.example.com/\ta.jpg', 'https://cdn.example.com/a b.jpg', 'https://cdn.example.com/a\u007f.jpg']) {
      expect(checkUrlStatic(url, { allowTargets: [] })).toMatchObject({ ok: false, reason: expect.stringContaining('whitespace') });
    }
    expect(checkUrlStatic('https://cdn.example.com/a%20b.jpg', { allowTargets: [] })).toMatchObject({ ok: true });
  });
});
