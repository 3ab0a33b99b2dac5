import fs from 'node:fs';
import { RunningChaosStack, startChaosStack } from '../../../bench/chaos/stack';
import type { Scenario, ScenarioResult } from '../../../bench/chaos/scenario';
import { scenarios } from '../../../bench/chaos/scenarios';

/**
 * Scenarios 1, 3 and 4 of `npm run chaos` at a twentieth of their counts, on a stack of their own
 * (its own Postgres, Temporal and MinIO, never globalSetup's: these tests kill and restart them),
 * so that CI keeps the suite's promises true between full runs.
 */
const SCALE = 0.05;

let stack: RunningChaosStack;

beforeAll(async () => {
  stack = await startChaosStack({ scale: SCALE });
}, 300_000);

afterAll(async () => {
  await stack?.stop();
}, 60_000);

function scenario(id: number): Scenario {
  const found = scenarios.find((candidate) => candidate.id === id);
  if (!found) throw new Error(`scenario ${id} is not registered`);
  return found;
}

/** Everything a failure needs to be understood: the figures, the violations, where the logs are. */
function expectHolds(result: ScenarioResult): void {
  // The figures and the logs are what a failure is understood by; jest's diff would hide them.
  console.log(JSON.stringify({ ...result, logs: stack.faults.logFiles() }, null, 2));
  expect(result.violations).toEqual([]);
  expect({ lost: result.lost, duplicated: result.duplicated }).toEqual({ lost: 0, duplicated: 0 });
  expect(result.acknowledged).toBeGreaterThan(0);
}

it('starts every engine and process of its own, with every fault', () => {
  expect(stack.env.DATABASE_URL).not.toBe(process.env.DATABASE_URL);
  expect(stack.env.TEMPORAL_ADDRESS).not.toBe(process.env.TEMPORAL_ADDRESS);
  expect(stack.faults.workerCount()).toBe(2);
  expect(stack.faults.processesRunning?.()).toEqual({ api: true, workers: [true, true] });
  for (const file of stack.faults.logFiles()) expect(fs.existsSync(file)).toBe(true);
  expect(stack.faults.logFiles().some((file) => file.endsWith('worker-1.log'))).toBe(true);
});

it('1. worker SIGKILL: every publish ends with exactly one listing.published', async () => {
  const result = await scenario(1).run(stack, SCALE);
  expectHolds(result);
  expect((result.details.kills as unknown[]).length).toBeGreaterThanOrEqual(2);
}, 600_000);

it('3. Postgres restart under load: 503 with a code during the outage, every acknowledged write survives', async () => {
  const result = await scenario(3).run(stack, SCALE);
  expectHolds(result);
  // The restarts happened under load: some writes must have met the outage.
  expect(Object.keys(result.details.statuses as Record<string, number>)).toContain('503 DATABASE_UNAVAILABLE');
}, 600_000);

it('4. Temporal outage: writes succeed while it is down, every owed workflow runs once after', async () => {
  const result = await scenario(4).run(stack, SCALE);
  expectHolds(result);
  expect(result.details.writes_during_outage_acknowledged).toBeGreaterThan(0);
  expect(result.details.outbox_drained_after_restart_s).not.toBeNull();
}, 600_000);
