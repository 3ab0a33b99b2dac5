import { runSecretsAtRest } from '../../../bench/chaos/scenarios/secretsAtRest';
import { freePort } from '../../support/context';
import { HostileChaosStack, startHostileChaosStack } from '../../support/hostileChaosStack';

/**
 * Scenario 9 at a small size: the API in this process logging at info to a file, a worker as
 * its own process logging to another, and the scenario's loopback partner, portal and subscriber
 * on the one port the stack allow-lists.
 */
jest.setTimeout(300_000);

let chaos: HostileChaosStack;

beforeAll(async () => {
  chaos = await startHostileChaosStack({
    workers: 1,
    overrides: { WEBHOOK_ALLOW_TARGETS: `127.0.0.1:${await freePort()}`, PARTNER_KEY_RETRY_SCHEDULE: '0s,300ms,300ms', WEBHOOK_RETRY_SCHEDULE: '0s,1s' },
  });
});

afterAll(async () => {
  await chaos?.close();
});

it('leaves no full API key, webhook secret, partner secret or agency key in Postgres, MinIO, Temporal or the logs', async () => {
  const result = await runSecretsAtRest(chaos.stack, 0.2);
  console.log(JSON.stringify(result, null, 1).slice(0, 8000));
  expect(result.violations).toEqual([]);
  expect(result.lost).toBe(0);
  const kinds = result.details.secretsByKind as Record<string, number>;
  for (const kind of ['API key', 'webhook secret', 'partner client secret', 'x-crm-token', 'agency key (partner onboarding)', 'agency key (portal)', 'target client secret', 'portal x-crm-token']) {
    expect(kinds[kind]).toBeGreaterThan(0);
  }
  // The search looked where it had to: a dump, histories and the logs of both processes.
  expect(result.details.pgDumpBytes).toBeGreaterThan(10_000);
  expect(result.details.temporalHistories).toBeGreaterThan(0);
  expect(result.details.logFiles).toBe(2);
  expect(result.details.logBytes).toBeGreaterThan(0);
});
