import { randomUUID } from 'node:crypto';
import { ChaosStack, Scenario, ScenarioResult, scaled } from '../scenario';
import { ApiResponse, apiRequest, canonicalJson, countBy, listingBody } from './outageSupport';

/**
 * Issue 17, scenario 6: identical Idempotency-Keys and upserts of one external_ref, fired at once.
 * Races are the point, so every burst leaves the client in one tick (Promise.all over fetch) and
 * nothing waits between its requests. No fault is needed: the product races with itself.
 */
export const idempotencyRaces: Scenario = {
  id: 6,
  name: 'Idempotency and upsert races',
  async run(stack: ChaosStack, scale: number): Promise<ScenarioResult> {
    const org = await stack.seedOrganization();
    const keyRounds = scaled(20, scale, 2);
    const keyConcurrency = scaled(50, scale, 20);
    const upsertRounds = scaled(20, scale, 2);
    const upsertConcurrency = scaled(20, scale, 10);
    const violations: string[] = [];
    const statuses: number[] = [];
    let sent = 0;
    let acknowledged = 0;
    let lost = 0;
    let duplicated = 0;
    const started = Date.now();

    const post = (path: string, body: unknown, key?: string, method = 'POST') =>
      apiRequest(stack.apiUrl, method, path, { key: org.secretKey, body, headers: key ? { 'Idempotency-Key': key } : {} }).catch(
        (error: Error): ApiResponse => ({ status: 0, headers: new Headers(), body: undefined, text: error.message }),
      );
    const record = (responses: ApiResponse[]) => {
      sent += responses.length;
      for (const response of responses) {
        statuses.push(response.status);
        if (response.status >= 200 && response.status < 300) acknowledged += 1;
        if (response.status === 0 || response.status >= 500) violations.push(`a raced request got ${response.status || 'no answer'}: ${response.text.slice(0, 200)}`);
      }
    };
    // Only the event the write itself commits: the pipeline's own (listing.moderated, .published)
    // follow once per revision whether or not the request was raced.
    const eventsOf = async (listingId: string, ...names: ('listing.created' | 'listing.updated')[]) =>
      stack.db('events').where({ org_id: org.orgId }).whereIn('name', names).whereRaw("payload->>'listingId' = ?", [listingId]).select('name', 'payload');

    /** Same key, same body, all at once: one execution, and every 2xx is the first response. */
    const keyRace = async (round: string, method: string, path: string, body: unknown) => {
      const key = randomUUID();
      const responses = await Promise.all(Array.from({ length: keyConcurrency }, () => post(path, body, key, method)));
      record(responses);
      const answered = responses.filter((response) => response.status >= 200 && response.status < 300);
      const others = responses.filter((response) => !(response.status >= 200 && response.status < 300));
      for (const other of others) {
        if (other.status !== 409 || other.body?.error?.code !== 'IDEMPOTENCY_KEY_IN_USE') {
          violations.push(`${round}: a duplicate got ${other.status} ${other.body?.error?.code ?? other.text.slice(0, 120)} (only a replay or 409 IDEMPOTENCY_KEY_IN_USE is promised)`);
        }
      }
      const originals = answered.filter((response) => response.headers.get('idempotent-replayed') !== 'true');
      if (originals.length > 1) violations.push(`${round}: ${originals.length} responses were not marked as replays (one execution is promised)`);
      // The settled key must replay too: a client that retried after the burst sees the same answer.
      const replay = await post(path, body, key, method);
      record([replay]);
      if (replay.headers.get('idempotent-replayed') !== 'true') violations.push(`${round}: the replay after the race was not a replay (${replay.status})`);
      // Key order is not part of a JSON answer (the stored copy comes back from jsonb).
      const reference = canonicalJson({ status: replay.status, body: replay.body });
      const differing = [...answered, replay].filter((response) => canonicalJson({ status: response.status, body: response.body }) !== reference);
      if (differing.length) {
        violations.push(`${round}: ${differing.length} answers differ from the stored response (first: ${canonicalJson({ status: differing[0].status, body: differing[0].body }).slice(0, 300)} vs ${reference.slice(0, 300)})`);
      }
      return { replay, answered: answered.length };
    };

    // 6a: POST /listings with one Idempotency-Key (the create's in-statement claim).
    for (let round = 0; round < keyRounds; round += 1) {
      const body = listingBody();
      const { replay, answered } = await keyRace(`create round ${round + 1}`, 'POST', '/api/v1/listings', body);
      const listings = await stack.db('listings').where({ org_id: org.orgId, external_ref: body.external_ref as string }).whereNull('deleted_at');
      if (listings.length === 0 && answered > 0) {
        lost += 1;
        violations.push(`create round ${round + 1}: acknowledged, but no listing exists`);
        continue;
      }
      if (listings.length > 1) duplicated += listings.length - 1;
      const events = listings.length ? await eventsOf(listings[0].id, 'listing.created') : [];
      if (events.length !== 1) {
        duplicated += Math.max(0, events.length - 1);
        violations.push(`create round ${round + 1}: ${listings.length} listing(s) with ${events.length} event(s) ${JSON.stringify(countBy(events, (e) => e.name))}; one listing.created is promised`);
      }
      if (listings[0] && listings[0].revision !== 1) violations.push(`create round ${round + 1}: the listing is at revision ${listings[0].revision}, so the create ran more than once`);
      if (replay.body?.data?.id && listings[0] && replay.body.data.id !== listings[0].id) violations.push(`create round ${round + 1}: the replay names another listing`);
    }

    // 6b: PATCH /listings/{id} with one Idempotency-Key (the classic claim-first path).
    const patched = await post('/api/v1/listings', listingBody());
    if (patched.status !== 201) throw new Error(`could not create the listing to patch: ${patched.status} ${patched.text}`);
    const patchId: string = patched.body.data.id;
    for (let round = 0; round < keyRounds; round += 1) {
      const before = await stack.db('listings').where({ id: patchId }).first('revision');
      const eventsBefore = (await eventsOf(patchId, 'listing.updated')).length;
      await keyRace(`patch round ${round + 1}`, 'PATCH', `/api/v1/listings/${patchId}`, { title: `Patched ${round} ${randomUUID().slice(0, 6)}` });
      const after = await stack.db('listings').where({ id: patchId }).first('revision');
      const newEvents = (await eventsOf(patchId, 'listing.updated')).length - eventsBefore;
      if (after.revision - before.revision !== 1 || newEvents !== 1) {
        if (after.revision - before.revision > 1) duplicated += after.revision - before.revision - 1;
        if (after.revision === before.revision) lost += 1;
        violations.push(`patch round ${round + 1}: revision went ${before.revision} → ${after.revision} with ${newEvents} new event(s); one execution is promised`);
      }
    }

    // 6c: upserts of one external_ref without a key, each with its own title: one listing, every write applied once.
    for (let round = 0; round < upsertRounds; round += 1) {
      const base = listingBody();
      const bodies = Array.from({ length: upsertConcurrency }, (_, index) => ({ ...base, title: `Upsert ${round}.${index} ${randomUUID().slice(0, 6)}` }));
      const responses = await Promise.all(bodies.map((body) => post('/api/v1/listings', body)));
      record(responses);
      const listings = await stack.db('listings').where({ org_id: org.orgId, external_ref: base.external_ref as string }).whereNull('deleted_at');
      const ok = responses.filter((response) => response.status === 200 || response.status === 201);
      const created = responses.filter((response) => response.status === 201).length;
      if (listings.length !== 1) {
        if (listings.length > 1) duplicated += listings.length - 1;
        else lost += ok.length;
        violations.push(`upsert round ${round + 1}: ${listings.length} listings for one external_ref`);
        continue;
      }
      if (created !== 1) violations.push(`upsert round ${round + 1}: ${created} responses said 201 Created; exactly one is promised`);
      const revisions = ok.map((response) => response.body?.data?.revision as number);
      const distinct = new Set(revisions);
      // Every acknowledged write is its own revision: two answers naming one revision means one write overwrote the other unseen.
      if (distinct.size !== ok.length) {
        lost += ok.length - distinct.size;
        violations.push(`upsert round ${round + 1}: ${ok.length} acknowledged writes but only ${distinct.size} distinct revisions`);
      }
      if (listings[0].revision !== ok.length) violations.push(`upsert round ${round + 1}: ${ok.length} writes acknowledged, the listing is at revision ${listings[0].revision}`);
      const events = countBy(await eventsOf(listings[0].id, 'listing.created', 'listing.updated'), (event) => event.name);
      if ((events['listing.created'] ?? 0) !== 1 || (events['listing.updated'] ?? 0) !== ok.length - 1) {
        duplicated += Math.max(0, (events['listing.created'] ?? 0) - 1);
        violations.push(`upsert round ${round + 1}: events ${JSON.stringify(events)} for ${ok.length} acknowledged writes`);
      }
    }

    return {
      id: 6,
      name: 'Idempotency and upsert races',
      sent,
      unit: 'requests',
      acknowledged,
      lost,
      duplicated,
      recoverySeconds: null,
      details: {
        keyRounds,
        keyConcurrency,
        upsertRounds,
        upsertConcurrency,
        statuses: countBy(statuses, String),
        seconds: Math.round((Date.now() - started) / 100) / 10,
      },
      violations,
    };
  },
};
