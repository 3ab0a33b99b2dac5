import { randomUUID } from 'node:crypto';
import type { TestApi } from './context';

/** A complete German rental listing that passes moderation. */
export function completeListing(overrides: Record<string, unknown> = {}) {
  return {
    external_ref: `CRM-${randomUUID().slice(0, 8)}`,
    title: 'Bright 2-room apartment',
    description: 'Quiet courtyard flat with balcony, fitted kitchen and parquet floors.',
    street: 'Beispielstraße',
    // A unique address per listing: two listings at one address trigger the duplicate rule (needs_review).
    house_number: String(1 + Math.floor(Math.random() * 1_000_000)),
    zip_code: '10115',
    city: 'Berlin',
    property_type: 'apartment',
    living_area: 58,
    rooms: 2,
    rent_cold: 980,
    energy_certificate: { type: 'consumption', energy_value: 112.5, main_energy_source: 'gas', year_of_construction: 1998, efficiency_class: 'D' },
    status: 'draft',
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
