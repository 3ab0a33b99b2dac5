import { randomUUID } from 'node:crypto';
import { createPublicationLeases } from '../../../src/targets/publicationLease';
import { createTargetService } from '../../../src/targets/service';
import { TestContext, createTestContext, seedOrganization } from '../../support/context';
import { completeListing } from '../../support/listings';

/** The (listing, target) lease on real Postgres: one holder at a time, re-entrant, freed on expiry. */
let ctx: TestContext;
let listingId: string;
let targetId: string;

beforeAll(async () => {
  ctx = await createTestContext();
  const org = await seedOrganization(ctx.deps);
  listingId = randomUUID();
  await ctx.deps.db('listings').insert({ id: listingId, org_id: org.organization.id, external_ref: `lease-${listingId}`, title: completeListing().title, normalized_address: 'lease test' });
  const { target } = await createTargetService(ctx.deps.db, ctx.deps.config).create({
    name: `Lease portal ${randomUUID().slice(0, 6)}`,
    baseUrl: 'https://93.184.215.14',
    clientId: 'crm_lease',
    clientSecret: 'crmsec_lease',
    webhookSecret: `whsec_${Buffer.alloc(24, 2).toString('base64')}`,
  });
  targetId = target.id;
});

afterAll(async () => {
  await ctx?.close();
});

it('lets one holder push a pair at a time, takes a retried holder back at once, and frees an expired lease', async () => {
  const leases = createPublicationLeases(ctx.deps.db);
  expect(await leases.claim(listingId, targetId, 'backfill-a')).toEqual({ claimed: true });
  const busy = await leases.claim(listingId, targetId, 'publication-b');
  expect(busy).toEqual({ claimed: false, retryAfterMs: 1000 });
  // The same caller, retried after its worker died, gets its lease back without waiting.
  expect(await leases.claim(listingId, targetId, 'backfill-a')).toEqual({ claimed: true });
  // Releasing someone else's lease does nothing.
  await leases.release(listingId, targetId, 'publication-b');
  expect(await leases.claim(listingId, targetId, 'publication-b')).toMatchObject({ claimed: false });
  await leases.release(listingId, targetId, 'backfill-a');
  expect(await leases.claim(listingId, targetId, 'publication-b')).toEqual({ claimed: true });

  // A holder that died: its lease runs out and the next caller takes the pair.
  await ctx.deps.db('publication_leases').where({ listing_id: listingId, target_id: targetId }).update({ expires_at: new Date(Date.now() - 1000) });
  expect(await leases.claim(listingId, targetId, 'backfill-c')).toEqual({ claimed: true });
  expect(await ctx.deps.db('publication_leases').where({ listing_id: listingId }).select('holder')).toEqual([{ holder: 'backfill-c' }]);
});

it('answers gone for a listing that no longer exists', async () => {
  expect(await createPublicationLeases(ctx.deps.db).claim(randomUUID(), targetId, 'publication-x')).toEqual({ gone: true });
});
