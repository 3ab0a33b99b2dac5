import { runHostileInput } from '../../../bench/chaos/scenarios/hostileInput';
import { POLLUTION_MARKER } from '../../../bench/chaos/hostile/mutations';
import { freePort } from '../../support/context';
import { HostileChaosStack, startHostileChaosStack } from '../../support/hostileChaosStack';

/**
 * Scenario 7 at a tenth of its size against the real API in this process, so the prototypes the
 * handlers share can be inspected directly after every request, not only through responses.
 */
jest.setTimeout(300_000);

const PROTOTYPES: [string, object][] = [
  ['Object.prototype', Object.prototype],
  ['Array.prototype', Array.prototype],
  ['Function.prototype', Function.prototype],
  ['String.prototype', String.prototype],
  ['Number.prototype', Number.prototype],
  ['Boolean.prototype', Boolean.prototype],
  ['RegExp.prototype', RegExp.prototype],
  ['Date.prototype', Date.prototype],
  ['Promise.prototype', Promise.prototype],
];

const shapeOf = (target: object) => Reflect.ownKeys(target).map(String).sort().join(',');

let chaos: HostileChaosStack;

beforeAll(async () => {
  // The scenario hosts the target's portal on this port, so POST /targets/{id}/connect runs to the end.
  chaos = await startHostileChaosStack({ overrides: { WEBHOOK_ALLOW_TARGETS: `127.0.0.1:${await freePort()}` } });
});

afterAll(async () => {
  await chaos?.close();
});

it('answers every hostile request to every write route with a 4xx envelope or a 2xx, and no prototype changes', async () => {
  const before = new Map(PROTOTYPES.map(([name, target]) => [name, shapeOf(target)]));
  const afterEach = () => {
    const changed = PROTOTYPES.filter(([name, target]) => shapeOf(target) !== before.get(name)).map(([name]) => name);
    if (({} as Record<string, unknown>)[POLLUTION_MARKER] !== undefined) changed.push(`({}).${POLLUTION_MARKER}`);
    return changed.length ? `prototypes changed: ${changed.join(', ')}` : undefined;
  };
  // CHAOS_HOSTILE_SCALE=1 runs the full 5000 requests here too.
  const result = await runHostileInput(chaos.stack, Number(process.env.CHAOS_HOSTILE_SCALE ?? 0.1), { afterEach });
  // The figures, for whoever reads the CI log of a failure (seed included to replay it).
  console.log(JSON.stringify({ ...result, details: { ...result.details, byRoute: undefined } }, null, 1).slice(0, 6000));
  expect(result.sent).toBeGreaterThanOrEqual(500);
  expect(result.details.routes).toBeGreaterThanOrEqual(20);
  expect(result.violations).toEqual([]);
  expect(result.lost).toBe(0);
  expect(result.acknowledged).toBe(result.sent);
  // The handlers ran, not only the 404 and auth paths.
  const statuses = result.details.byStatus as Record<string, number>;
  expect((statuses['200'] ?? 0) + (statuses['201'] ?? 0) + (statuses['202'] ?? 0)).toBeGreaterThan(0);
  expect(statuses['400']).toBeGreaterThan(0);
});
