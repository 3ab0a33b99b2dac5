import { checkUrl, checkUrlStatic, dnsServersResolver } from '../../../src/http/ssrfGuard';
import { ChaosDns, PUBLIC_V4, ZONE, rebindingName, ssrfCorpus, startChaosDns } from '../../../bench/chaos/ssrfFixtures';

const input = { canaryPort: 4444, redirectTo: (location: string) => `http://127.0.0.1:5555/r?to=${encodeURIComponent(location)}`, rebindingName };

describe('the SSRF corpus', () => {
  const corpus = ssrfCorpus(input);

  it('has at least 40 targets with unique labels, covering every class the issue names', () => {
    expect(corpus.length).toBeGreaterThanOrEqual(40);
    expect(new Set(corpus.map((target) => target.label)).size).toBe(corpus.length);
    expect(new Set(corpus.map((target) => target.class))).toEqual(
      new Set(['private', 'loopback', 'link-local', 'metadata', 'ipv6', 'ipv4-mapped', 'odd-ipv4', 'dns-private', 'rebinding', 'redirect']),
    );
    for (const spelling of ['2130706433', '0177.0.0.1', '0x7f.0.0.1', '0x7f000001', '127.1', '[::ffff:127.0.0.1]', '[::ffff:7f00:1]', '169.254.169.254', '[fd00:ec2::254]']) {
      expect(corpus.some((target) => target.url.includes(`//${spelling}:`))).toBe(true);
    }
  });

  it('stages each target where the guard can first see it: literals by the static check, names and redirects later', () => {
    for (const target of corpus) {
      const verdict = checkUrlStatic(target.url, { allowTargets: ['127.0.0.1:5555'] });
      expect({ label: target.label, refusedStatically: !verdict.ok }).toEqual({ label: target.label, refusedStatically: target.stage === 'creation' });
    }
  });

  it('points every direct target at the canary port', () => {
    for (const target of corpus.filter((candidate) => candidate.class !== 'redirect')) expect(new URL(target.url).port).toBe('4444');
  });

  it('gives a fresh rebinding name per corpus', () => {
    const host = (targets: typeof corpus) => new URL(targets.find((target) => target.class === 'rebinding')!.url).hostname;
    expect(host(ssrfCorpus(input))).not.toBe(host(ssrfCorpus(input)));
  });
});

describe('the chaos DNS server, through the guard\'s SSRF_DNS_SERVERS resolver', () => {
  let dns: ChaosDns;
  beforeAll(async () => {
    dns = await startChaosDns();
  });
  afterAll(() => dns.close());

  it('answers A and AAAA of its zone, NXDOMAIN elsewhere', async () => {
    const resolve = dnsServersResolver([dns.servers]);
    expect(await resolve(`private10.${ZONE}`)).toEqual(['10.0.0.1']);
    expect(await resolve(`metadata6.${ZONE}`)).toEqual(['fd00:ec2::254']);
    expect((await resolve(`mixed.${ZONE}`)).sort()).toEqual(['93.184.215.14', '::1'].sort());
    await expect(resolve(`nothing.${ZONE}`)).rejects.toMatchObject({ code: 'ENOTFOUND' });
  });

  it('a rebinding name passes the first check and is refused by the second', async () => {
    const resolve = dnsServersResolver([dns.servers]);
    const url = `https://${rebindingName()}:4444/hook`;
    expect(await checkUrl(url, { allowTargets: [], resolve })).toMatchObject({ ok: true, addresses: expect.arrayContaining([PUBLIC_V4]) });
    expect(await checkUrl(url, { allowTargets: [], resolve })).toMatchObject({ ok: false, reason: expect.stringContaining('blocked address') });
  });

  it('fails closed when the server does not answer', async () => {
    const resolve = dnsServersResolver(['127.0.0.1:9']);
    await expect(checkUrl(`https://canary.${ZONE}/`, { allowTargets: [], resolve })).resolves.toMatchObject({ ok: false, reason: expect.stringContaining('could not be resolved') });
  });
});
