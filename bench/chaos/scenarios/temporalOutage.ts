import { Scenario, ScenarioResult, scaled } from '../scenario';
import { acknowledged, eventCounts, onceNoneMore, percentileOf, sample, sleep, statusCounts, steadyWrites, waitForPublished, waitUntil, workflowRuns } from '../support';

/** Load before and after the outage, so both edges of it are under load. */
const EDGE_MS = 5_000;

/**
 * Issue 17, scenario 4: the Temporal server is stopped under the load of scenario 3 and started
 * again (with its SQLite file, so it keeps its state as a cluster would). Writes must keep
 * succeeding (the outbox owes their workflows); afterwards the outbox drains and every owed
 * workflow runs exactly once.
 */
export const temporalOutage: Scenario = {
  id: 4,
  name: 'Temporal outage',
  async run(stack, scale): Promise<ScenarioResult> {
    const { stopTemporal, startTemporal } = stack.faults;
    if (!stopTemporal || !startTemporal) throw new Error('scenario 4 needs the stopTemporal and startTemporal faults');
    const org = await stack.seedOrganization();
    const rate = scaled(50, scale, 10);
    const downMs = scaled(60_000, scale, 10_000);
    const violations: string[] = [];

    const load = steadyWrites(stack, org.secretKey, { rate, timeoutMs: 15_000 });
    await sleep(EDGE_MS);
    const downAt = Date.now();
    await stopTemporal();
    const goneAt = Date.now();
    await sleep(downMs);
    await startTemporal();
    const upAt = Date.now();
    await sleep(EDGE_MS);
    load.stop();
    const outcomes = await load.done;
    const loadStart = downAt - EDGE_MS;

    const acked = acknowledged(outcomes);
    const failed = outcomes.filter((o) => !acked.includes(o));
    const duringOutage = outcomes.filter((o) => loadStart + o.startedAt >= goneAt && loadStart + o.startedAt < upAt);
    if (failed.length) violations.push(`${failed.length} of ${outcomes.length} writes failed (${JSON.stringify(statusCounts(failed))}); the outbox should have kept them while Temporal was down`);
    if (duringOutage.length === 0) violations.push('no write was sent while Temporal was down: the scenario tested nothing');

    // The outbox drains: every row this organisation's writes owe is started.
    const drained = await waitUntil(async () => {
      const [{ n }] = await stack.db('outbox').where({ org_id: org.orgId, status: 'pending' }).count<{ n: string }[]>('* as n');
      return Number(n) === 0;
    }, 120_000 + acked.length * 100, 250);
    const drainedAt = Date.now();
    if (!drained) violations.push('the outbox did not drain within the deadline after Temporal came back');
    const rows: { created_at: Date; started_at: Date | null }[] = await stack.db('outbox').select('created_at', 'started_at').where({ org_id: org.orgId });
    const lags = rows.filter((row) => row.started_at).map((row) => row.started_at!.getTime() - row.created_at.getTime());

    const ids = acked.map((o) => o.listingId as string);
    const recoverySeconds = await waitForPublished(stack, org.orgId, ids, 120_000 + ids.length * 200, upAt);
    const published = onceNoneMore(await eventCounts(stack, org.orgId, 'listing.published', ids));
    if (published.none.length) violations.push(`${published.none.length} acknowledged listings were never published: ${sample(published.none)}`);
    if (published.more.length) violations.push(`${published.more.length} listings got listing.published more than once: ${sample(published.more)}`);
    const runs = await workflowRuns(stack, org.orgId, 'listingPublish');
    const notOnce = ids.filter((id) => {
      const statuses = runs.get(`listing-publish:${id}:r1`) ?? [];
      return statuses.length !== 1 || statuses[0] !== 'COMPLETED';
    });
    if (notOnce.length) violations.push(`${notOnce.length} owed listingPublish workflows did not run exactly once to completion: ${sample(notOnce.map((id) => `${id} ${JSON.stringify(runs.get(`listing-publish:${id}:r1`) ?? [])}`))}`);
    const running = stack.faults.processesRunning?.();
    if (running && (!running.api || running.workers.some((up) => !up))) violations.push(`a process of ours exited during the outage (api ${running.api}, workers ${JSON.stringify(running.workers)})`);

    return {
      id: 4,
      name: 'Temporal outage',
      sent: outcomes.length,
      unit: 'writes',
      acknowledged: acked.length,
      lost: published.none.length,
      duplicated: Math.max(published.more.length, ids.filter((id) => (runs.get(`listing-publish:${id}:r1`) ?? []).length > 1).length),
      recoverySeconds,
      details: {
        rate_per_second: rate,
        down_ms: upAt - downAt,
        writes_during_outage: duringOutage.length,
        writes_during_outage_acknowledged: duringOutage.filter((o) => acked.includes(o)).length,
        statuses: statusCounts(outcomes),
        write_p99_ms: percentileOf(outcomes.map((o) => o.ms), 99),
        outbox_rows: rows.length,
        outbox_drained_after_restart_s: drained ? Math.round((drainedAt - upAt) / 100) / 10 : null,
        outbox_lag_p50_s: lagSeconds(percentileOf(lags, 50)),
        outbox_lag_max_s: lagSeconds(lags.length ? Math.max(...lags) : null),
        workflows_not_exactly_once: notOnce.length,
      },
      violations,
    };
  },
};

const lagSeconds = (ms: number | null) => (ms === null ? null : Math.round(ms / 100) / 10);
