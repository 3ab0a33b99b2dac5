import { ssrfScenario } from '../../../bench/chaos/scenarios/ssrf';
import { ChaosDns, startChaosDns } from '../../../bench/chaos/ssrfFixtures';
import { ClosableChaosStack, startInProcessChaosStack } from '../../support/chaosStack';
import { startSmtpSink, SmtpSink } from '../../support/smtpSink';

/** Scenario 10 at small scale on the test stack, with the DNS, canary and redirect fixtures on loopback. */
jest.setTimeout(240_000);

let dns: ChaosDns;
let mail: SmtpSink;
let chaos: ClosableChaosStack;

beforeAll(async () => {
  [dns, mail] = await Promise.all([startChaosDns(), startSmtpSink()]);
  chaos = await startInProcessChaosStack({
    ...dns.env,
    SMTP_URL: mail.url,
    WEBHOOK_RETRY_SCHEDULE: '0s,200ms',
    PARTNER_KEY_RETRY_SCHEDULE: '0s,200ms',
    ATTACHMENT_RETRY_INITIAL_INTERVAL: '100ms',
    PUBLIC_BASE_URL: 'https://immoflow.test',
  });
});

afterAll(async () => {
  await chaos?.close();
  await dns?.close();
  await mail?.close();
});

it('blocks every target of the corpus through webhooks, partner webhooks and attachments, at creation and at delivery', async () => {
  const result = await ssrfScenario.run(chaos, 0.1);
  expect(result.violations).toEqual([]);
  expect(result.lost).toBe(0);
  expect(result.duplicated).toBe(0);
  expect(result.details.corpusSize).toBeGreaterThanOrEqual(40);
  expect(result.sent).toBe(3 * (result.details.corpusSize as number));
  // The rebinding names really were asked twice: public first, then private.
  expect(result.details.rebindingQueriesAnsweredPrivate).toBeGreaterThan(0);
  expect(result.details.canaryConnections).toBe(0);
  // Each channel refused some at creation and some only at the outbound call: both stages ran.
  for (const channel of ['webhook', 'partner', 'attachment']) {
    const stages = (result.details.byChannelAndStage as Record<string, { creation: number; delivery: number; through: number }>)[channel];
    expect(stages.creation).toBeGreaterThan(0);
    expect(stages.delivery).toBeGreaterThan(0);
    expect(stages.through).toBe(0);
  }
  expect(result.details.redirectServerHits).toBeGreaterThan(0);
});
