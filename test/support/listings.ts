import { randomUUID } from 'node:crypto';
import { upsertListingExample } from '../../src/openapi/examples';
import type { TestApi } from './context';

/**
 * A complete German rental listing that passes moderation: the API reference's upsert example
 * (src/openapi/examples.ts), with its own external_ref and house number.
 */
export function completeListing(overrides: Record<string, unknown> = {}) {
  return {
    ...upsertListingExample,
    energy_certificate: { ...upsertListingExample.energy_certificate },
    external_ref: `CRM-${randomUUID().slice(0, 8)}`,
    // A unique address per listing: two listings at one address trigger the duplicate rule (needs_review).
    house_number: String(1 + Math.floor(Math.random() * 1_000_000)),
    ...overrides,
  };
}

export async function eventsOf(api: TestApi, key: string, listingId: string): Promise<{ eventName: string; eventPayload: any }[]> {
  const events: { eventName: string; eventPayload: any }[] = [];
  let cursor: string | null = null;
  do {
    const response: any = await api.request('GET', `/api/v1/events?limit=100${cursor ? `&cursor=${cursor}` : ''}`, { key });
    if (response.status !== 200) throw new Error(`events: ${response.status} ${response.text}`);
    events.push(...response.body.data.filter((event: any) => event.eventPayload.listingId === listingId));
    cursor = response.body.pagination.next_cursor;
  } while (cursor);
  return events;
}
