import { SearchAttributeType, defineSearchAttributeKey } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import type { Connection } from '@temporalio/client';

/** Custom search attributes (DESIGN §6): an operator finds any pipeline in the UI by these. */
export const searchAttributeKeys = {
  OrgId: defineSearchAttributeKey('OrgId', SearchAttributeType.KEYWORD),
  ListingId: defineSearchAttributeKey('ListingId', SearchAttributeType.KEYWORD),
  ExternalRef: defineSearchAttributeKey('ExternalRef', SearchAttributeType.KEYWORD),
  WebhookId: defineSearchAttributeKey('WebhookId', SearchAttributeType.KEYWORD),
  EventName: defineSearchAttributeKey('EventName', SearchAttributeType.KEYWORD),
  PartnerId: defineSearchAttributeKey('PartnerId', SearchAttributeType.KEYWORD),
  AgencyId: defineSearchAttributeKey('AgencyId', SearchAttributeType.KEYWORD),
  TargetId: defineSearchAttributeKey('TargetId', SearchAttributeType.KEYWORD),
} as const;

export type SearchAttributeName = keyof typeof searchAttributeKeys;

/** Registers the attributes that the namespace does not know yet; idempotent. */
export async function ensureSearchAttributes(connection: Pick<Connection, 'operatorService'>, namespace: string): Promise<void> {
  const existing = await connection.operatorService.listSearchAttributes({ namespace });
  const known = new Set(Object.keys(existing.customAttributes ?? {}));
  const missing = Object.keys(searchAttributeKeys).filter((name) => !known.has(name));
  if (missing.length === 0) return;
  await connection.operatorService.addSearchAttributes({
    namespace,
    searchAttributes: Object.fromEntries(
      missing.map((name) => [name, temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD]),
    ),
  });
}

/** Turns the outbox's plain `{ OrgId: ['…'] }` into typed search attribute pairs. */
export function toTypedSearchAttributes(attributes: Record<string, string[]> = {}) {
  return Object.entries(attributes)
    .filter(([name, values]) => name in searchAttributeKeys && values.length > 0)
    .map(([name, values]) => ({ key: searchAttributeKeys[name as SearchAttributeName], value: values[0] }));
}
