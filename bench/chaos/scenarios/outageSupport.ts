import { randomUUID } from 'node:crypto';
import type http from 'node:http';
import type { AddressInfo } from 'node:net';
import { upsertListingExample } from '../../../src/openapi/examples';

/** Helpers shared by scenarios 2, 5 and 6: they drive the API over real HTTP, as a CRM would. */

export { apiRequest } from '../http';
export type { ApiResponse } from '../http';

/** A listing that passes moderation, with its own external_ref and a unique address (no duplicate rule). */
export function listingBody(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    ...upsertListingExample,
    energy_certificate: { ...upsertListingExample.energy_certificate },
    external_ref: `CHAOS-${randomUUID().slice(0, 12)}`,
    house_number: String(1 + Math.floor(Math.random() * 1_000_000)),
    ...overrides,
  };
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Polls `probe` until it returns a truthy value or `timeoutMs` passes (then undefined). */
export async function waitFor<T>(probe: () => Promise<T | undefined | null | false>, timeoutMs: number, intervalMs = 250): Promise<T | undefined> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const value = await probe();
      if (value) return value;
    } catch {
      // A probe may fail while a fault is on; only the deadline ends the wait.
    }
    if (Date.now() >= deadline) return undefined;
    await sleep(intervalMs);
  }
}

export function countBy<T>(items: T[], key: (item: T) => string): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const item of items) counts[key(item)] = (counts[key(item)] ?? 0) + 1;
  return counts;
}

/** Throws when the stack lacks a fault the scenario needs: a chaos scenario never skips silently. */
export function requireFaults<K extends string>(faults: Partial<Record<K, unknown>>, names: K[], scenario: string): void {
  const missing = names.filter((name) => typeof faults[name] !== 'function');
  if (missing.length) throw new Error(`${scenario} needs the faults ${missing.join(', ')}, which this stack does not offer`);
}

/** JSON with object keys sorted, so two answers compare by content. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, inner) =>
    inner && typeof inner === 'object' && !Array.isArray(inner) ? Object.fromEntries(Object.entries(inner).sort(([a], [b]) => (a < b ? -1 : 1))) : inner,
  );
}

/** Starts `server` on 127.0.0.1:`port` (a port the stack's allow list already names) and answers its origin. */
export async function listenOnLoopback(server: http.Server, port: number): Promise<string> {
  server.listen(port, '127.0.0.1');
  await new Promise<void>((resolve, reject) => {
    server.once('listening', () => resolve());
    server.once('error', reject);
  });
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}
