import { ChaosStack, Scenario, ScenarioResult, scaled } from '../scenario';
import { WriteOutcome, acknowledged, eventCounts, onceNoneMore, percentileOf, presentListings, sample, sleep, statusCounts, steadyWrites, waitForPublished } from '../support';

/** What a client may wait for a write during an outage: the API's pool gives up after 10 s (src/db/knex.ts). */
const WRITE_TIMEOUT_MS = 12_000;
/** /readyz bounds each check by DEPENDENCY_TIMEOUT (2 s); more than this is a hang. */
const READYZ_TIMEOUT_MS = 5_000;
/** After Postgres accepts again, the pools need a moment to replace their dead connections. */
const READY_AGAIN_GRACE_MS = 3_000;
/** Load after each restart, for the recovery under load and for /readyz to be judged while up. */
const RECOVERED_LOAD_MS = 8_000;

interface ReadySample {
  startedAt: number;
  endedAt: number;
  status: number;
  postgresOk: boolean | null;
}

interface Outage {
  downAt: number;
  /** When pg_ctl stop returned: no Postgres process is left. */
  goneAt: number;
  /** When pg_ctl start was called: until then nothing can answer on the port. */
  startAt: number;
  /** When pg_ctl start returned: Postgres accepts connections (it may have a little earlier: pg_ctl polls). */
  upAt: number;
}

function pollReadiness(stack: ChaosStack): { stop(): Promise<ReadySample[]> } {
  const samples: ReadySample[] = [];
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      const startedAt = Date.now();
      try {
        const response = await fetch(`${stack.apiUrl}/readyz`, { signal: AbortSignal.timeout(READYZ_TIMEOUT_MS) });
        const body = (await response.json().catch(() => undefined)) as { checks?: { postgres?: { ok?: boolean } } } | undefined;
        samples.push({ startedAt, endedAt: Date.now(), status: response.status, postgresOk: body?.checks?.postgres?.ok ?? null });
      } catch {
        samples.push({ startedAt, endedAt: Date.now(), status: 0, postgresOk: null });
      }
      await sleep(250);
    }
  })();
  return {
    async stop() {
      stopped = true;
      await loop;
      return samples;
    },
  };
}

/** The readiness answers that contradict what the harness knows about Postgres at that moment. */
export function readinessLies(samples: ReadySample[], outages: Outage[], endedAt: number, loadStart = samples[0]?.startedAt ?? 0): string[] {
  const lies: string[] = [];
  const at = (ms: number) => `+${Math.round((ms - loadStart) / 100) / 10} s`;
  const hung = samples.filter((s) => s.status === 0);
  if (hung.length) {
    const timeline = outages.map((o) => `down ${at(o.downAt)}–${at(o.upAt)}`).join(', ');
    lies.push(`/readyz gave no answer within ${READYZ_TIMEOUT_MS / 1000} s ${hung.length} times (sent at ${hung.slice(0, 5).map((s) => at(s.startedAt)).join(', ')}; Postgres ${timeline})`);
  }
  const answered = samples.filter((s) => s.status !== 0);
  const whileDown = answered.filter((s) => outages.some((o) => s.startedAt >= o.goneAt && s.endedAt <= o.startAt));
  const saidReady = whileDown.filter((s) => s.status === 200 || s.postgresOk !== false);
  if (saidReady.length) lies.push(`/readyz said Postgres was fine ${saidReady.length} of ${whileDown.length} times while it was down`);
  const upPeriods = outages.map((o, i) => ({ from: o.upAt + READY_AGAIN_GRACE_MS, to: outages[i + 1]?.downAt ?? endedAt }));
  const whileUp = answered.filter((s) => upPeriods.some((p) => s.startedAt >= p.from && s.endedAt <= p.to));
  const saidDown = whileUp.filter((s) => s.status !== 200 || s.postgresOk !== true);
  if (saidDown.length) lies.push(`/readyz said not ready ${saidDown.length} of ${whileUp.length} times more than ${READY_AGAIN_GRACE_MS / 1000} s after Postgres was back`);
  return lies;
}

/** Every failing write must be a 503 with a code: never a bare 500, another status, a dropped connection or a hang. */
export function badFailures(outcomes: WriteOutcome[]): WriteOutcome[] {
  return outcomes.filter((o) => !(o.status >= 200 && o.status < 300) && !(o.status === 503 && o.code));
}

/**
 * Issue 17, scenario 3: writes at a steady rate while Postgres is restarted twice (an immediate
 * stop, as in a crash, then a start on the same port). Judged: every failing request, /readyz
 * throughout, and afterwards every acknowledged write with its row, its `listing.created` and its
 * pipeline's `listing.published`, with the API and workers never restarted.
 */
export const postgresRestart: Scenario = {
  id: 3,
  name: 'Postgres restart under load',
  async run(stack, scale): Promise<ScenarioResult> {
    const { restartPostgres, stopPostgres, startPostgres } = stack.faults;
    if (!restartPostgres) throw new Error('scenario 3 needs the restartPostgres fault');
    const org = await stack.seedOrganization();
    const rate = scaled(50, scale, 10);
    const durationMs = scaled(60_000, scale, 20_000);
    const downMs = scaled(5_000, scale, 3_000);
    const violations: string[] = [];

    const readiness = pollReadiness(stack);
    // Open-ended: a slow restart (pg_ctl on a busy machine) must not outlast the load, which runs
    // until RECOVERED_LOAD_MS after the last one so that the recovery itself is under load.
    const load = steadyWrites(stack, org.secretKey, { rate, timeoutMs: WRITE_TIMEOUT_MS });
    const loadStart = Date.now();
    const outages: Outage[] = [];
    for (const fraction of [1 / 3, 2 / 3]) {
      const previousUp = outages[outages.length - 1]?.upAt ?? 0;
      const wait = Math.max(loadStart + durationMs * fraction, previousUp + RECOVERED_LOAD_MS) - Date.now();
      if (wait > 0) await sleep(wait);
      const downAt = Date.now();
      if (stopPostgres && startPostgres) {
        await stopPostgres();
        const goneAt = Date.now();
        await sleep(downMs);
        const startAt = Date.now();
        await startPostgres();
        outages.push({ downAt, goneAt, startAt, upAt: Date.now() });
      } else {
        await restartPostgres(downMs);
        const upAt = Date.now();
        // Without the halves neither the stop's end nor the start's beginning is known; only the
        // middle of the outage is judged.
        outages.push({ downAt, goneAt: upAt - (downMs * 3) / 4, startAt: upAt - downMs / 4, upAt });
      }
    }
    await sleep(Math.max(loadStart + durationMs, outages[outages.length - 1].upAt + RECOVERED_LOAD_MS) - Date.now());
    load.stop();
    const outcomes = await load.done;
    const endedAt = Date.now();
    const samples = await readiness.stop();
    violations.push(...readinessLies(samples, outages, endedAt, loadStart));

    const bad = badFailures(outcomes);
    if (bad.length) {
      violations.push(
        `${bad.length} failing writes were not a 503 with a code (${JSON.stringify(statusCounts(bad))}), e.g. ${bad
          .slice(0, 3)
          .map((o) => `#${o.index} sent at +${Math.round(o.startedAt / 100) / 10} s: ${o.status}${o.code ? ` ${o.code}` : ''} after ${o.ms} ms${o.error ? ` (${o.error})` : ''}`)
          .join('; ')}`,
      );
    }
    const acked = acknowledged(outcomes);
    const failing = outcomes.filter((o) => !acked.includes(o));
    const lastUp = outages[outages.length - 1].upAt;
    // The API must take writes again on its own: some write sent after the last restart succeeds.
    const afterLast = outcomes.filter((o) => loadStart + o.startedAt > lastUp + READY_AGAIN_GRACE_MS);
    if (afterLast.length && !afterLast.some((o) => acked.includes(o))) violations.push('no write sent after the last restart succeeded: the API did not recover');
    const firstSuccessAfter = outages.map((o) => {
      const first = acked.filter((a) => loadStart + a.startedAt >= o.upAt).sort((a, b) => a.startedAt - b.startedAt)[0];
      return first ? loadStart + first.startedAt + first.ms - o.upAt : null;
    });

    const ids = acked.map((o) => o.listingId as string);
    const recoverySeconds = await waitForPublished(stack, org.orgId, ids, 120_000 + ids.length * 200, lastUp);
    const present = await presentListings(stack, org.orgId, ids);
    const missingRows = ids.filter((id) => !present.has(id));
    const created = onceNoneMore(await eventCounts(stack, org.orgId, 'listing.created', ids));
    const published = onceNoneMore(await eventCounts(stack, org.orgId, 'listing.published', ids));
    if (missingRows.length) violations.push(`${missingRows.length} acknowledged listings are missing: ${sample(missingRows)}`);
    if (created.none.length) violations.push(`${created.none.length} acknowledged listings have no listing.created: ${sample(created.none)}`);
    if (published.none.length) violations.push(`${published.none.length} acknowledged listings were never published (their workflow did not run): ${sample(published.none)}`);
    if (created.more.length || published.more.length) violations.push(`listing.created more than once: ${created.more.length}, listing.published more than once: ${published.more.length}`);
    const running = stack.faults.processesRunning?.();
    if (running && (!running.api || running.workers.some((up) => !up))) violations.push(`a process of ours exited during the restarts (api ${running.api}, workers ${JSON.stringify(running.workers)})`);

    const lost = new Set([...missingRows, ...created.none, ...published.none]).size;
    return {
      id: 3,
      name: 'Postgres restart under load',
      sent: outcomes.length,
      unit: 'writes',
      acknowledged: acked.length,
      lost,
      duplicated: new Set([...created.more, ...published.more]).size,
      recoverySeconds,
      details: {
        rate_per_second: rate,
        duration_s: durationMs / 1000,
        restarts: outages.map((o, i) => ({ at_s: Math.round((o.downAt - loadStart) / 100) / 10, down_ms: o.upAt - o.downAt, first_success_after_ms: firstSuccessAfter[i] })),
        statuses: statusCounts(outcomes),
        failing_p99_ms: percentileOf(failing.map((o) => o.ms), 99),
        failing_max_ms: failing.length ? Math.max(...failing.map((o) => o.ms)) : null,
        readyz_samples: samples.length,
      },
      violations,
    };
  },
};
