import { crossTenantScenario } from '../../../bench/chaos/scenarios/crossTenant';
import { freePort } from '../../../scripts/stack/processes';
import { FakeSubscriber, startFakeSubscriber } from '../../support/fakeSubscriber';
import { ClosableChaosStack, startInProcessChaosStack } from '../../support/chaosStack';

/** Scenario 8 at small scale: every id route of /openapi.json × another organisation's ids. */
jest.setTimeout(180_000);

let subscriber: FakeSubscriber;
let chaos: ClosableChaosStack;

beforeAll(async () => {
  subscriber = await startFakeSubscriber();
  // A second allow-listed loopback port, where the scenario serves the portal A connects to.
  const portalPort = await freePort();
  chaos = await startInProcessChaosStack({ WEBHOOK_ALLOW_TARGETS: `${subscriber.hostPort},127.0.0.1:${portalPort}`, PUBLIC_BASE_URL: 'https://immoflow.test' });
});

afterAll(async () => {
  await chaos?.close();
  await subscriber?.close();
});

it("answers 404 in the error envelope to every id route called with another organisation's ids", async () => {
  const result = await crossTenantScenario.run(chaos, 0.1);
  expect(result.violations).toEqual([]);
  expect(result.lost).toBe(0);
  expect(result.duplicated).toBe(0);
  expect(result.sent).toBeGreaterThanOrEqual(20);
  // The per-organisation id types were really created in A, so B's 404s are about ownership.
  expect(result.details.created).toEqual(expect.arrayContaining(['listings', 'images', 'webhooks', 'deliveries', 'requests', 'connections', 'targets']));
  // B's calls on the target A connected were its own connection's: A's stayed connected.
  expect(result.details.targetConnection).toEqual({ seenByA: { one: 'connected', listed: 'connected' }, seenByB: { one: 'not_connected', listed: 'not_connected' } });
});
