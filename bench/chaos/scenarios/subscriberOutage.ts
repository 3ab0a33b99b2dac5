import http from 'node:http';
import { ChaosStack, Scenario, ScenarioResult, scaled } from '../scenario';
import { INTERRUPTED_TRY } from '../../../activities/webhooks';
import { apiRequest, countBy, listenOnLoopback, listingBody, requireFaults, sleep, waitFor } from './outageSupport';

/**
 * Issue 17, scenario 2: ten subscriptions on a subscriber that fails in every way a real one does
 * (500s, dropped connections, answers past WEBHOOK_TIMEOUT) and then recovers, while the worker is
 * SIGKILLed and restarted in the middle. Every event must reach every subscription exactly once
 * as a success, under one webhook id, and the attempt log must tell what the subscriber saw.
 */

// Short, so the slow phase is cheap, but not so short that a worker starved of CPU (two cores
// shared with the engines) times out an answer the subscriber already sent.
const TIMEOUT_MS = 3000;

/**
 * The env the stack must run with: a short WEBHOOK_TIMEOUT so the slow phase is cheap, a retry
 * schedule of 2 s steps spanning ~200 s (longer than the full-scale outage, so no delivery runs out
 * of attempts before the subscriber recovers), and the subscriber's loopback port allowed (the SSRF
 * guard refuses loopback otherwise). CHAOS_SUBSCRIBER_PORT tells the scenario where to listen;
 * config ignores it.
 */
export function subscriberOutageEnv(port: number): Record<string, string> {
  return {
    WEBHOOK_TIMEOUT: `${TIMEOUT_MS}ms`,
    WEBHOOK_RETRY_SCHEDULE: ['0s', '1s', ...Array.from({ length: 100 }, () => '2s')].join(','),
    WEBHOOK_ALLOW_TARGETS: `127.0.0.1:${port}`,
    CHAOS_SUBSCRIBER_PORT: String(port),
  };
}

type Phase = 'fail500' | 'drop' | 'slow' | 'recovered';
/** What the subscriber did with one request: answered 200 in time, 500, destroyed the socket, or held it past the timeout. */
type Seen = 'ok' | 'status500' | 'dropped' | 'slowAbandoned' | 'slowAnswered';

interface SeenRequest {
  path: string;
  webhookId: string | undefined;
  xWebhookId: string | undefined;
  eventId: string | undefined;
  phase: Phase;
  seen: Seen;
  at: number;
}

async function startOutageSubscriber(port: number) {
  let phase: Phase = 'fail500';
  const seen: SeenRequest[] = [];
  const sockets = new Set<import('node:net').Socket>();
  const server = http.createServer((req, res) => {
    let raw = '';
    req.setEncoding('utf8');
    req.on('data', (chunk) => (raw += chunk));
    req.on('end', () => {
      let eventId: string | undefined;
      try {
        eventId = JSON.parse(raw).eventId;
      } catch {
        eventId = undefined;
      }
      const entry: SeenRequest = {
        path: new URL(req.url ?? '/', 'http://subscriber').pathname,
        webhookId: req.headers['webhook-id'] as string | undefined,
        xWebhookId: req.headers['x-webhook-id'] as string | undefined,
        eventId,
        phase,
        seen: 'ok',
        at: Date.now(),
      };
      seen.push(entry);
      if (phase === 'fail500') {
        entry.seen = 'status500';
        res.writeHead(500, { 'Content-Type': 'text/plain' }).end('chaos: failing');
      } else if (phase === 'drop') {
        entry.seen = 'dropped';
        req.socket.destroy();
      } else if (phase === 'slow') {
        entry.seen = 'slowAbandoned';
        // Well past the timeout: a client that still listens then is one that enforces no timeout.
        setTimeout(() => {
          if (req.socket.destroyed || res.destroyed) return;
          entry.seen = 'slowAnswered';
          res.writeHead(200, { 'Content-Type': 'text/plain' }).end('late ok');
        }, TIMEOUT_MS * 3);
      } else {
        res.writeHead(200, { 'Content-Type': 'text/plain' }).end('ok');
      }
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  const origin = await listenOnLoopback(server, port);
  return {
    origin,
    seen,
    setPhase(next: Phase) {
      phase = next;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

/** An attempt as the product logged it, reduced to what the subscriber can tell apart. */
const loggedClass = (attempt: { status_code: number | null }) => (attempt.status_code === null ? 'noAnswer' : attempt.status_code >= 200 && attempt.status_code < 300 ? 'ok' : String(attempt.status_code));
const seenClass = (request: SeenRequest) =>
  request.seen === 'ok' || request.seen === 'slowAnswered' ? 'ok' : request.seen === 'status500' ? '500' : 'noAnswer';

export const subscriberOutage: Scenario = {
  id: 2,
  name: 'Subscriber outage',
  async run(stack: ChaosStack, scale: number): Promise<ScenarioResult> {
    requireFaults(stack.faults, ['killWorker', 'startWorker'], 'Scenario 2 (subscriber outage)');
    const port = Number(stack.env.CHAOS_SUBSCRIBER_PORT);
    if (!port) throw new Error('Scenario 2 needs the stack started with subscriberOutageEnv(port) (CHAOS_SUBSCRIBER_PORT is not set)');
    const timeoutMs = stack.env.WEBHOOK_TIMEOUT;
    if (timeoutMs !== `${TIMEOUT_MS}ms`) throw new Error(`Scenario 2 needs WEBHOOK_TIMEOUT=${TIMEOUT_MS}ms (the stack has ${timeoutMs})`);

    const fail500Ms = Math.max(6_000, 60_000 * scale);
    const dropMs = Math.max(4_000, 20_000 * scale);
    const slowMs = Math.max(4_000, 20_000 * scale);
    const workerDownMs = Math.max(2_000, 10_000 * scale);
    const subscriptions = 10;
    const listings = scaled(100, scale, 10);
    const violations: string[] = [];

    const subscriber = await startOutageSubscriber(port);
    try {
      const org = await stack.seedOrganization();
      const webhooks: { id: string; path: string }[] = [];
      for (let index = 0; index < subscriptions; index += 1) {
        const path = `/hooks/${org.orgId}/${index}`;
        const created = await apiRequest(stack.apiUrl, 'POST', '/api/v1/webhooks', {
          key: org.secretKey,
          body: { url: `${subscriber.origin}${path}`, events: ['listing.created'], description: `chaos subscriber ${index}` },
        });
        if (created.status !== 201) throw new Error(`could not create subscription ${index}: ${created.status} ${created.text}`);
        webhooks.push({ id: created.body.data.id, path });
      }

      // The writes are spread over the three failing phases, so events meet each kind of failure first.
      const outageMs = fail500Ms + dropMs + slowMs;
      const outageStart = Date.now();
      const phaseAt = (ms: number) => sleep(Math.max(0, outageStart + ms - Date.now()));
      const writes = (async () => {
        const ids: string[] = [];
        for (let index = 0; index < listings; index += 1) {
          await phaseAt((outageMs * index) / listings);
          const response = await apiRequest(stack.apiUrl, 'POST', '/api/v1/listings', { key: org.secretKey, body: listingBody() });
          if (response.status !== 201) violations.push(`a listing write got ${response.status}: ${response.text.slice(0, 200)}`);
          else ids.push(response.body.data.id);
        }
        return ids;
      })();
      let killedAt = 0;
      let restartedAt = 0;
      let slowStartedAt = 0;
      const faults = (async () => {
        await phaseAt(fail500Ms);
        subscriber.setPhase('drop');
        // The worker dies in the middle of the outage, with attempts of every delivery owed.
        await phaseAt(fail500Ms + dropMs / 2);
        killedAt = Date.now();
        await stack.faults.killWorker!(0);
        await sleep(workerDownMs);
        await stack.faults.startWorker!(0);
        restartedAt = Date.now();
        // A worker takes seconds to start: the drop phase lasts until it is back, so the slow
        // phase meets a running worker for all of its length.
        await phaseAt(fail500Ms + dropMs);
        subscriber.setPhase('slow');
        slowStartedAt = Date.now();
        await sleep(slowMs);
        subscriber.setPhase('recovered');
      })();
      const [listingIds] = await Promise.all([writes, faults]);
      const recoveredAt = Date.now();

      const events = await stack.db('events').where({ org_id: org.orgId, name: 'listing.created' }).select('event_id', 'payload');
      const eventIds = events.map((event) => event.event_id as string);
      const owed = eventIds.length * subscriptions;
      // The schedule's 2 s steps (±20 %) plus an attempt's timeout bound how long a caught-up delivery can take; a restart adds the activity timeout.
      const settled = await waitFor(async () => {
        const row = await stack.db('webhook_deliveries').where({ org_id: org.orgId }).select(stack.db.raw("count(*) filter (where status = 'succeeded')::int as ok"), stack.db.raw('count(*)::int as total')).first();
        return row && row.ok >= owed ? row : undefined;
      }, 120_000 + 60_000 * scale);
      const recoverySeconds = settled ? Math.round((Date.now() - recoveredAt) / 100) / 10 : null;
      if (!settled) violations.push(`deliveries did not all succeed within ${Math.round((120_000 + 60_000 * scale) / 1000)} s of the recovery`);
      // Late duplicates would arrive after the last success: give them a moment to show up.
      await sleep(3_000);

      const deliveries = await stack.db('webhook_deliveries').where({ org_id: org.orgId }).select('id', 'webhook_id', 'event_id', 'status', 'attempt_count', 'redelivery_of');
      const attempts = await stack.db('delivery_attempts as a')
        .join('webhook_deliveries as d', 'd.id', 'a.delivery_id')
        .where('d.org_id', org.orgId)
        .orderBy(['a.delivery_id', 'a.attempt_number', 'a.try_number'])
        .select('a.delivery_id', 'a.attempt_number', 'a.try_number', 'a.status_code', 'a.error', 'a.duration_ms', 'a.attempted_at');
      const attemptsOf = new Map<string, typeof attempts>();
      for (const attempt of attempts) attemptsOf.set(attempt.delivery_id, [...(attemptsOf.get(attempt.delivery_id) ?? []), attempt]);
      const pathOf = new Map(webhooks.map((webhook) => [webhook.id, webhook.path]));
      const seenOf = new Map<string, SeenRequest[]>();
      for (const request of subscriber.seen) {
        const key = `${request.path} ${request.eventId}`;
        seenOf.set(key, [...(seenOf.get(key) ?? []), request]);
      }

      let lost = 0;
      let duplicated = 0;
      let unloggedAtKill = 0;
      let interruptedTries = 0;
      const deliveryOf = new Map(deliveries.map((delivery) => [`${delivery.webhook_id} ${delivery.event_id}`, delivery]));
      if (deliveries.length !== owed) violations.push(`${deliveries.length} deliveries for ${eventIds.length} events × ${subscriptions} subscriptions (${owed} owed)`);
      for (const webhook of webhooks) {
        for (const eventId of eventIds) {
          const requests = seenOf.get(`${webhook.path} ${eventId}`) ?? [];
          const successes = requests.filter((request) => seenClass(request) === 'ok').length;
          if (successes === 0) lost += 1;
          if (successes > 1) {
            duplicated += successes - 1;
            violations.push(`event ${eventId} reached subscription ${webhook.id} as a success ${successes} times`);
          }
          const ids = new Set(requests.flatMap((request) => [request.webhookId, request.xWebhookId]));
          if (requests.length && (ids.size !== 1 || !ids.has(eventId))) {
            violations.push(`event ${eventId} was sent to ${webhook.id} under the ids ${JSON.stringify([...ids])}, not its event id alone`);
          }
          const delivery = deliveryOf.get(`${webhook.id} ${eventId}`);
          if (!delivery) {
            violations.push(`event ${eventId} has no delivery for subscription ${webhook.id}`);
            continue;
          }
          if (delivery.status !== 'succeeded') violations.push(`delivery ${delivery.id} ended ${delivery.status}`);
          const all = attemptsOf.get(delivery.id) ?? [];
          // A try whose worker was SIGKILLed mid-request is logged as interrupted by the try after it:
          // it stands for one request of any outcome, or none if the kill came before the POST.
          const interrupted = all.filter((attempt) => attempt.error === INTERRUPTED_TRY).length;
          const logged = all.filter((attempt) => attempt.error !== INTERRUPTED_TRY);
          const loggedCounts = countBy(logged, loggedClass);
          const seenCounts = countBy(requests, seenClass);
          const classes = new Set([...Object.keys(loggedCounts), ...Object.keys(seenCounts)]);
          let unexplained = 0;
          let unlogged = 0;
          for (const name of classes) {
            const gap = (seenCounts[name] ?? 0) - (loggedCounts[name] ?? 0);
            if (gap < 0) unexplained -= gap;
            else unlogged += gap;
          }
          if (unlogged > interrupted) unexplained += unlogged - interrupted;
          interruptedTries += interrupted;
          unloggedAtKill += unlogged;
          if (unexplained > 0) {
            violations.push(`delivery ${delivery.id}: the attempt log ${JSON.stringify(loggedCounts)} (+${interrupted} interrupted) does not match what the subscriber saw ${JSON.stringify(seenCounts)} (logged: ${JSON.stringify(all.map((a) => [a.attempt_number, a.try_number, a.status_code, a.duration_ms, a.error]))}; seen: ${JSON.stringify(requests.map((r) => [r.seen, r.at - outageStart]))})`);
          }
          const attemptNumbers = new Set(all.map((attempt) => attempt.attempt_number)).size;
          if (attemptNumbers !== delivery.attempt_count) violations.push(`delivery ${delivery.id}: attempt_count ${delivery.attempt_count} but ${attemptNumbers} attempt numbers logged`);
        }
      }

      // The deliveries API is what a subscriber's operator reads: it must tell the same story as the tables.
      for (const webhook of webhooks.slice(0, 3)) {
        const sample = deliveries.find((delivery) => delivery.webhook_id === webhook.id);
        if (!sample) continue;
        const detail = await apiRequest(stack.apiUrl, 'GET', `/api/v1/webhooks/${webhook.id}/deliveries/${sample.id}`, { key: org.secretKey });
        const logged = attemptsOf.get(sample.id) ?? [];
        const listed = detail.body?.data?.attempts ?? detail.body?.attempts;
        if (detail.status !== 200 || !Array.isArray(listed) || listed.length !== logged.length) {
          violations.push(`GET delivery ${sample.id} answered ${detail.status} with ${Array.isArray(listed) ? listed.length : 'no'} attempts; ${logged.length} are logged`);
        }
      }

      if (listingIds.length !== eventIds.length) violations.push(`${listingIds.length} listings acknowledged, ${eventIds.length} listing.created events`);
      const lateOk = subscriber.seen.filter((request) => request.seen === 'slowAnswered').length;
      if (lateOk) violations.push(`${lateOk} attempts were still waiting ${TIMEOUT_MS * 3} ms into a ${TIMEOUT_MS} ms WEBHOOK_TIMEOUT`);
      if (!pathOf.size) violations.push('no subscription was created');

      return {
        id: 2,
        name: 'Subscriber outage',
        sent: owed,
        unit: 'event deliveries',
        acknowledged: listingIds.length * subscriptions,
        lost,
        duplicated,
        recoverySeconds,
        details: {
          subscriptions,
          events: eventIds.length,
          phasesMs: { fail500: fail500Ms, drop: slowStartedAt - outageStart - fail500Ms, slow: slowMs },
          workerDownMs: restartedAt - killedAt,
          requestsSeen: subscriber.seen.length,
          seenByPhase: countBy(subscriber.seen, (request) => `${request.phase}:${request.seen}`),
          attemptsLogged: attempts.length,
          attemptsPerDelivery: { max: Math.max(0, ...deliveries.map((delivery) => delivery.attempt_count)), mean: Math.round((attempts.length / Math.max(1, deliveries.length)) * 10) / 10 },
          unloggedAttemptsAtKill: unloggedAtKill,
          interruptedTriesLogged: interruptedTries,
        },
        violations,
      };
    } finally {
      await subscriber.close();
    }
  },
};
