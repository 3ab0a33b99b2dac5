import { randomUUID } from 'node:crypto';
import { normalizeAddress } from '../domain/address';
import type { ListingStatus } from '../domain/listingLifecycle';
import type { AuthContext } from '../identity/authContext';
import type { ListingRow } from './dto';
import type { ListingFieldValues } from './schema';

export interface ListingOwner {
  id: string;
  email: string;
}

/** Who owns a listing created without owner_email: the API key's creator. */
export function defaultOwner(auth: AuthContext): ListingOwner | null {
  return auth.createdBy && auth.createdByEmail ? { id: auth.createdBy, email: auth.createdByEmail } : null;
}

/** A listing row before it exists: everything but its change_seq, which Postgres assigns. */
export type NewListingRow = Omit<ListingRow, 'change_seq'>;

/**
 * The scale of each numeric column (migrations): Postgres hands them back as text with exactly
 * this many decimals. The API accepts at most as many (schema.ts), so nothing is rounded.
 */
const NUMERIC_SCALES = {
  living_area: 2,
  rooms: 1,
  rent_cold: 2,
  rent_warm: 2,
  service_charges: 2,
  deposit: 2,
  purchase_price: 2,
} as const;

const asNumeric = (value: number | null | undefined, scale: number): string | null => (value === null || value === undefined ? null : value.toFixed(scale));

/**
 * The row a create writes, every column decided here (id, timestamps, defaults), so the response
 * and the event payload are known before the insert. It must equal what Postgres would read back:
 * test/integration/listings/api.test.ts compares a create's response with a later GET.
 */
export function newListingRow(orgId: string, externalRef: string, status: ListingStatus, fields: ListingFieldValues, owner: ListingOwner | null, now: Date): NewListingRow {
  const country = fields.country ?? 'DE';
  return {
    id: randomUUID(),
    org_id: orgId,
    external_ref: externalRef,
    status,
    revision: 1,
    owner_user_id: owner?.id ?? null,
    owner_email: owner?.email ?? null,
    title: fields.title ?? null,
    description: fields.description ?? null,
    property_type: fields.property_type ?? null,
    marketing_type: fields.marketing_type ?? 'rent',
    street: fields.street ?? null,
    house_number: fields.house_number ?? null,
    zip_code: fields.zip_code ?? null,
    city: fields.city ?? null,
    country,
    normalized_address: normalizeAddress({ ...fields, country }),
    living_area: asNumeric(fields.living_area, NUMERIC_SCALES.living_area),
    rooms: asNumeric(fields.rooms, NUMERIC_SCALES.rooms),
    floor: fields.floor ?? null,
    rent_cold: asNumeric(fields.rent_cold, NUMERIC_SCALES.rent_cold),
    rent_warm: asNumeric(fields.rent_warm, NUMERIC_SCALES.rent_warm),
    service_charges: asNumeric(fields.service_charges, NUMERIC_SCALES.service_charges),
    deposit: asNumeric(fields.deposit, NUMERIC_SCALES.deposit),
    purchase_price: asNumeric(fields.purchase_price, NUMERIC_SCALES.purchase_price),
    available_from: fields.available_from ?? null,
    energy_certificate: fields.energy_certificate ?? null,
    geo_lat: null,
    geo_lng: null,
    geo_precision: null,
    geo_provider: null,
    moderation_state: 'pending',
    moderation_reasons: [],
    moderation_revision: null,
    moderated_at: null,
    review_workflow_id: null,
    publication_state: status === 'active' ? 'pending' : 'unpublished',
    published_at: null,
    created_at: now,
    updated_at: now,
    deleted_at: null,
  };
}

/** The columns of the insert; the rest are the table's defaults, which the row above repeats. */
export function listingInsertColumns(row: NewListingRow): Record<string, unknown> {
  const { owner_email: _ownerEmail, energy_certificate, moderation_reasons: _reasons, ...columns } = row;
  return { ...columns, energy_certificate: energy_certificate === null ? null : JSON.stringify(energy_certificate) };
}
