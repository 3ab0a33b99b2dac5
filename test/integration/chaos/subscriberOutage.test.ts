import { subscriberOutage, subscriberOutageEnv } from '../../../bench/chaos/scenarios/subscriberOutage';
import { freePort } from '../../support/context';
import { ClosableChaosStack, startWorkerProcessChaosStack } from '../../support/chaosStack';

/**
 * Issue 17 scenario 2 at a small scale: a subscriber that fails with 500s, dropped connections and
 * answers past WEBHOOK_TIMEOUT, and a worker process SIGKILLed in the middle; every event still
 * reaches every subscription once, and the attempt log tells what the subscriber saw.
 */
jest.setTimeout(420_000);

let stack: ClosableChaosStack;

beforeAll(async () => {
  stack = await startWorkerProcessChaosStack(subscriberOutageEnv(await freePort()));
});

afterAll(async () => {
  await stack?.close();
});

it('delivers every event to every subscription exactly once across the outage and a worker SIGKILL', async () => {
  const result = await subscriberOutage.run(stack, 0.1);
  console.log(JSON.stringify({ ...result, violations: result.violations.slice(0, 20) }, null, 1));
  expect(result.violations).toEqual([]);
  expect(result.lost).toBe(0);
  expect(result.duplicated).toBe(0);
  expect(result.sent).toBeGreaterThanOrEqual(100);
  // The outage was real: the subscriber saw each kind of failure before it recovered.
  expect(Object.keys(result.details.seenByPhase as object)).toEqual(expect.arrayContaining(['fail500:status500', 'drop:dropped', 'slow:slowAbandoned', 'recovered:ok']));
});
