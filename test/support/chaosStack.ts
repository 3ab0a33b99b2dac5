import type { ChaosStack } from '../../bench/chaos/scenario';
import { TestStack, startTestStack } from './workers';
import { seedOrganization } from './context';

export interface JestChaosStack {
  stack: ChaosStack;
  test: TestStack;
  close(): Promise<void>;
}

/**
 * A ChaosStack on the jest test stack (in-process API and workers, the suite's engines), for
 * scenarios that inject no fault: `faults` is empty, so a scenario that needs one throws.
 */
export async function jestChaosStack(overrides: Record<string, string> = {}): Promise<JestChaosStack> {
  const test = await startTestStack(overrides);
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries({ ...process.env, ...overrides, TEMPORAL_TASK_QUEUE: test.ctx.deps.config.TEMPORAL_TASK_QUEUE })) {
    if (value !== undefined) env[name] = value;
  }
  const stack: ChaosStack = {
    apiUrl: test.api.baseUrl,
    db: test.ctx.deps.db,
    env,
    async seedOrganization() {
      const seeded = await seedOrganization(test.ctx.deps);
      return { orgId: seeded.organization.id, secretKey: seeded.secretKey, secretKeyId: seeded.secretKeyId };
    },
    faults: {},
  };
  return { stack, test, close: () => test.close() };
}
