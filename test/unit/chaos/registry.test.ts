import { scenarios } from '../../../bench/chaos/scenarios';

it('registers each of the ten scenarios of issue 17 once, with the secrets search last', () => {
  expect(scenarios.map((scenario) => scenario.id).sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  expect(scenarios[scenarios.length - 1].id).toBe(9);
});
