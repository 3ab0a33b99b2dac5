import { freePort } from '../../scripts/stack/processes';
import { startSmtpSink } from '../../test/support/smtpSink';
import { minioOutageEnv } from './scenarios/minioOutage';
import { subscriberOutageEnv } from './scenarios/subscriberOutage';
import { startChaosDns } from './ssrfFixtures';

/** Settings several scenarios add to: the SSRF guard's allow lists, joined rather than replaced. */
const LISTS = new Set(['WEBHOOK_ALLOW_TARGETS', 'ATTACHMENT_ALLOW_TARGETS']);

/** Several scenarios' env in one: allow lists are joined; any other setting two of them name must agree. */
export function mergeScenarioEnv(...envs: Record<string, string>[]): Record<string, string> {
  const merged: Record<string, string> = {};
  for (const env of envs) {
    for (const [name, value] of Object.entries(env)) {
      if (merged[name] === undefined || merged[name] === value) merged[name] = value;
      else if (LISTS.has(name)) merged[name] = [...new Set([...merged[name].split(','), ...value.split(',')].filter(Boolean))].join(',');
      else throw new Error(`two chaos scenarios need different ${name}: ${merged[name]} and ${value}`);
    }
  }
  return merged;
}

export interface RunFixtures {
  /** What every process of the stack must run with, so that each scenario finds its servers. */
  env: Record<string, string>;
  close(): Promise<void>;
}

/**
 * The third parties of a full `npm run chaos`, started before its stack because the stack's
 * config must name them: the loopback DNS server of scenario 10 (with its canary and redirect
 * server), the subscriber's port of scenario 2, the file host's port of scenario 5, one more
 * allow-listed loopback port where scenarios 7 and 9 serve a portal and a partner, and a mail sink
 * for the notices a disabled webhook or partner sends.
 */
export async function startRunFixtures(): Promise<RunFixtures> {
  const [dns, mail, subscriberPort, filePort, loopbackPort] = await Promise.all([startChaosDns(), startSmtpSink(), freePort(), freePort(), freePort()]);
  const env = mergeScenarioEnv(subscriberOutageEnv(subscriberPort), minioOutageEnv(filePort), dns.env, {
    WEBHOOK_ALLOW_TARGETS: `127.0.0.1:${loopbackPort}`,
    SMTP_URL: mail.url,
    // A partner's key delivery retries fast enough for scenario 9 to see it arrive.
    PARTNER_KEY_RETRY_SCHEDULE: '0s,300ms,300ms,1s,2s',
  });
  return {
    env,
    async close() {
      await Promise.all([dns.close(), mail.close()]);
    },
  };
}
