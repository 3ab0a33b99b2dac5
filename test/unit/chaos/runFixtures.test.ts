import { mergeScenarioEnv } from '../../../bench/chaos/runFixtures';

describe('mergeScenarioEnv', () => {
  it('joins the allow lists of several scenarios without repeating an entry', () => {
    expect(mergeScenarioEnv({ WEBHOOK_ALLOW_TARGETS: '127.0.0.1:1', A: 'x' }, { WEBHOOK_ALLOW_TARGETS: '127.0.0.1:2,127.0.0.1:1', A: 'x' })).toEqual({
      WEBHOOK_ALLOW_TARGETS: '127.0.0.1:1,127.0.0.1:2',
      A: 'x',
    });
  });

  it('refuses two scenarios that need different values of one setting', () => {
    expect(() => mergeScenarioEnv({ WEBHOOK_TIMEOUT: '3000ms' }, { WEBHOOK_TIMEOUT: '10s' })).toThrow('two chaos scenarios need different WEBHOOK_TIMEOUT: 3000ms and 10s');
  });
});
