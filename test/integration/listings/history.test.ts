import fs from 'node:fs';
import path from 'node:path';
import { Worker } from '@temporalio/worker';
import { temporal } from '@temporalio/proto';
import { workflowIds } from '../../../src/domain/workflowIds';
import { TestApi, TestContext, eventually, seedOrganization, workflowBundle } from '../../support/context';
import { completeListing } from '../../support/listings';
import { TestStack, startTestStack } from '../../support/workers';

/**
 * The shape of a publish in Temporal: with the offline geocoder, a listing with nothing to wait
 * for is published in one workflow task, and a history recorded before that change (every step an
 * activity task, the geocode on its queue) still replays on today's code.
 */
const { EventType } = temporal.api.enums.v1;
const count = (history: temporal.api.history.v1.IHistory, type: temporal.api.enums.v1.EventType) => (history.events ?? []).filter((event) => event.eventType === type).length;

let stack: TestStack;
let ctx: TestContext;
let api: TestApi;
let org: Awaited<ReturnType<typeof seedOrganization>>;

beforeAll(async () => {
  stack = await startTestStack();
  ({ ctx, api } = stack);
  org = await seedOrganization(ctx.deps);
});

afterAll(async () => {
  await stack.close();
});

it('publishes a new active listing in one workflow task, its Postgres steps as local-activity markers', async () => {
  const created = await api.request('POST', '/api/v1/listings', { key: org.secretKey, body: completeListing({ status: 'active' }) });
  expect(created.status).toBe(201);
  const handle = (await ctx.deps.temporal.get()).workflow.getHandle(workflowIds.listingPublish(created.body.data.id, 1));
  expect(await eventually(() => handle.result().catch(() => undefined))).toEqual({ outcome: 'approved', publicationState: 'published' });

  const history = await handle.fetchHistory();
  expect(count(history, EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED)).toBe(1);
  expect(count(history, EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED)).toBe(0);
  // The patch marker plus one marker per step: load (with its coordinates) and apply.
  expect(count(history, EventType.EVENT_TYPE_MARKER_RECORDED)).toBe(3);

  // The listing has the offline provider's coordinates, found without the geocoding queue.
  const listing = (await api.request('GET', `/api/v1/listings/${created.body.data.id}`, { key: org.secretKey })).body.data;
  expect(listing.geo).toMatchObject({ precision: 'city' });

  await Worker.runReplayHistory({ workflowBundle: await workflowBundle() }, history, handle.workflowId);
});

it('replays a publish recorded before its steps became local activities', async () => {
  // Binary, not `temporal workflow show -o json`: historyFromJSON of SDK 1.24 fails on this
  // install (@temporalio/common's protobufjs 8 against @temporalio/proto's 7: "type must be a Type").
  const history = temporal.api.history.v1.History.decode(fs.readFileSync(path.resolve(__dirname, '../../fixtures/histories/listingPublish-queued-steps.binpb')));
  const scheduled = (history.events ?? []).filter((event) => event.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED);
  expect(scheduled.map((event) => event.activityTaskScheduledEventAttributes?.activityType?.name)).toEqual([
    'loadListingForModeration',
    'geocodeAddress',
    'applyPipelineResult',
  ]);
  await Worker.runReplayHistory({ workflowBundle: await workflowBundle() }, history, 'listing-publish:recorded');
});
