import { Scenario, ScenarioResult, scaled } from '../scenario';
import { acknowledged, eventCounts, onceNoneMore, sample, sleep, statusCounts, steadyWrites, waitForPublished, workflowRuns } from '../support';

/**
 * Issue 17, scenario 1: publishes at a steady rate while worker 0 is SIGKILLed at random moments
 * and started again each time; worker 1 keeps running throughout. Every acknowledged listing must
 * end with exactly one `listing.published` and one completed listingPublish run.
 */
export const workerKill: Scenario = {
  id: 1,
  name: 'Worker SIGKILL',
  async run(stack, scale): Promise<ScenarioResult> {
    const { killWorker, startWorker, workerCount } = stack.faults;
    if (!killWorker || !startWorker || !workerCount) throw new Error('scenario 1 needs the killWorker, startWorker and workerCount faults');
    if (workerCount() < 2) throw new Error('scenario 1 needs two workers: one is killed while the other keeps running');
    const org = await stack.seedOrganization();
    const count = scaled(1000, scale, 50);
    const rate = 20;
    const kills = scaled(5, scale, 2);
    const loadMs = (count * 1000) / rate;
    const violations: string[] = [];

    const load = steadyWrites(stack, org.secretKey, { rate, count, timeoutMs: 15_000 });
    // Random moments inside the load window; a kill waits for the restart before it, so with a
    // slow restart the later kills land while the backlog still drains (there is work in flight).
    const moments = Array.from({ length: kills }, () => Math.random() * loadMs).sort((a, b) => a - b);
    const started = Date.now();
    const killLog: { atMs: number; restartMs: number }[] = [];
    for (const moment of moments) {
      const wait = started + moment - Date.now();
      if (wait > 0) await sleep(wait);
      const at = Date.now();
      await killWorker(0);
      await startWorker(0);
      killLog.push({ atMs: at - started, restartMs: Date.now() - at });
    }
    const faultEnded = Date.now();
    const outcomes = await load.done;
    const acked = acknowledged(outcomes);
    const failed = outcomes.filter((outcome) => !acked.includes(outcome));
    // Nothing the API needs was down: every write must have been acknowledged.
    if (failed.length) violations.push(`${failed.length} of ${outcomes.length} publishes were not acknowledged (${JSON.stringify(statusCounts(failed))}) although only a worker was killed`);

    const ids = acked.map((outcome) => outcome.listingId as string);
    const recoverySeconds = await waitForPublished(stack, org.orgId, ids, 120_000 + count * 200, faultEnded);
    const published = onceNoneMore(await eventCounts(stack, org.orgId, 'listing.published', ids));
    if (published.none.length) violations.push(`${published.none.length} acknowledged listings never got listing.published: ${sample(published.none)}`);
    if (published.more.length) violations.push(`${published.more.length} listings got listing.published more than once: ${sample(published.more)}`);

    const runs = await workflowRuns(stack, org.orgId, 'listingPublish');
    const notOnce = ids.filter((id) => {
      const statuses = runs.get(`listing-publish:${id}:r1`) ?? [];
      return statuses.length !== 1 || statuses[0] !== 'COMPLETED';
    });
    if (notOnce.length) violations.push(`${notOnce.length} listings do not have exactly one completed listingPublish run: ${sample(notOnce.map((id) => `${id} ${JSON.stringify(runs.get(`listing-publish:${id}:r1`) ?? [])}`))}`);
    const running = stack.faults.processesRunning?.();
    if (running && !running.workers[1]) violations.push('worker 1, which was never killed, is no longer running');

    return {
      id: 1,
      name: 'Worker SIGKILL',
      sent: outcomes.length,
      unit: 'publishes',
      acknowledged: acked.length,
      lost: published.none.length,
      duplicated: published.more.length,
      recoverySeconds,
      details: {
        rate_per_second: rate,
        kills: killLog,
        statuses: statusCounts(outcomes),
        published_exactly_once: published.once,
        published_none: published.none.length,
        published_more_than_once: published.more.length,
        workflows_not_exactly_once: notOnce.length,
      },
      violations,
    };
  },
};
