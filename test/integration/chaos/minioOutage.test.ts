import { minioOutage, minioOutageEnv } from '../../../bench/chaos/scenarios/minioOutage';
import { RunningChaosStack, startChaosStack } from '../../../bench/chaos/stack';
import { freePort } from '../../support/context';

/**
 * Issue 17 scenario 5 at a small scale, on a stack with a MinIO of its own: the suite's MinIO is
 * shared by every test file and must never be stopped.
 */
jest.setTimeout(480_000);

let stack: RunningChaosStack;

beforeAll(async () => {
  stack = await startChaosStack({ scale: 0.1, workers: 1, extraEnv: minioOutageEnv(await freePort()) });
}, 240_000);

afterAll(async () => {
  await stack?.stop();
});

it('ingests the uploads finished after MinIO recovers and leaves nothing without a way out', async () => {
  const result = await minioOutage.run(stack, 0.1);
  console.log(JSON.stringify({ ...result, violations: result.violations.slice(0, 20) }, null, 1));
  expect(result.violations).toEqual([]);
  expect(result.lost).toBe(0);
  expect(result.duplicated).toBe(0);
  expect(result.details.uploadsRetriedAfterRecovery).toBeGreaterThan(0);
  expect(result.details.settled).toBe(true);
});
