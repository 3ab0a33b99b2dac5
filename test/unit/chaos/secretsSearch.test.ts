import { search } from '../../../bench/chaos/scenarios/secretsAtRest';

describe('the secrets-at-rest search', () => {
  const secret = { kind: 'webhook secret', value: 'whsec_c2VjcmV0LXNlY3JldC1zZWNyZXQ=' };

  it('finds a secret in full, base64- and base64url-encoded, and masks it in the excerpt', () => {
    const places: [string, string][] = [
      ['pg_dump', `COPY webhooks (secret) FROM stdin;\n${secret.value}\n`],
      ['log api.log', `{"msg":"x","b":"${Buffer.from(secret.value).toString('base64')}"}`],
      ['minio mail/1', `payload=${Buffer.from(secret.value).toString('base64url')}`],
    ];
    const findings = search([secret], places);
    expect(findings.map((finding) => [finding.place, finding.encoding])).toEqual(
      expect.arrayContaining([
        ['pg_dump', 'plain'],
        ['log api.log', 'base64'],
        ['minio mail/1', 'base64url'],
      ]),
    );
    expect(findings.every((finding) => !finding.excerpt.includes(secret.value))).toBe(true);
    expect(findings[0].hint).toBe('whsec_c2…ZXQ=');
  });

  it('finds nothing where only a hint or a hash is kept', () => {
    const places: [string, string][] = [['pg_dump', `hint whsec_c2VjcmV0…ZXQ= hash 9f86d081884c7d659a2feaa0c55ad015`]];
    expect(search([secret], places)).toEqual([]);
  });
});
