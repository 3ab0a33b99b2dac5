import { idempotencyRaces } from '../../../bench/chaos/scenarios/idempotencyRaces';
import { ClosableChaosStack, startInProcessChaosStack } from '../../support/chaosStack';

/** Issue 17 scenario 6 at a small scale: raced keys and upserts execute once. */
jest.setTimeout(180_000);

let stack: ClosableChaosStack;

beforeAll(async () => {
  stack = await startInProcessChaosStack();
});

afterAll(async () => {
  await stack?.close();
});

it('runs each raced Idempotency-Key once and keeps one listing per raced external_ref', async () => {
  const result = await idempotencyRaces.run(stack, 0.1);
  expect(result.violations).toEqual([]);
  expect(result.lost).toBe(0);
  expect(result.duplicated).toBe(0);
  expect(result.acknowledged).toBeGreaterThan(0);
});
