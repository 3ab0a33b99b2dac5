import { z } from 'zod';
import { attachmentsInputSchema } from '../attachments/schema';
import { LISTING_STATUSES } from '../domain/listingLifecycle';
import { singleLine } from '../http/singleLine';

export const PROPERTY_TYPES = ['apartment', 'house', 'room', 'commercial', 'office', 'retail', 'land', 'parking', 'other'] as const;
export const EFFICIENCY_CLASSES = ['A+', 'A', 'B', 'C', 'D', 'E', 'F', 'G', 'H'] as const;

// At most cents: the columns keep two decimals, and money is never rounded silently.
const money = (what: string) => z.number().nonnegative().max(1_000_000_000).multipleOf(0.01, 'at most two decimals (cents)').meta({ description: `${what} in EUR` });

export const energyCertificateSchema = z
  .object({
    type: z.enum(['consumption', 'demand']).meta({ description: 'Verbrauchsausweis (consumption) or Bedarfsausweis (demand)' }),
    energy_value: z.number().positive().max(2000).meta({ description: 'Energy value in kWh/(m²·a)' }),
    main_energy_source: singleLine(z.string().trim().min(1).max(100)).meta({ description: 'Main energy source, e.g. "gas", "district heating"' }),
    year_of_construction: z.number().int().min(1000).max(2100),
    efficiency_class: z.enum(EFFICIENCY_CLASSES),
  })
  .strict()
  .meta({ id: 'EnergyCertificate', description: 'Energy certificate data required in listings by GEG §87.' });

/** Fields a CRM may send; all optional on their own (activation requires some, see moderation). */
const listingFields = {
  title: singleLine(z.string().trim().min(1).max(200)),
  description: z.string().max(20_000),
  property_type: z.enum(PROPERTY_TYPES),
  marketing_type: z.enum(['rent', 'sale']),
  street: singleLine(z.string().trim().min(1).max(200)),
  house_number: singleLine(z.string().trim().min(1).max(20)),
  zip_code: z.string().trim().regex(/^[0-9A-Za-z -]{3,10}$/, 'a postal code of 3 to 10 letters or digits'),
  city: singleLine(z.string().trim().min(1).max(100)),
  country: z
    .string()
    .trim()
    .regex(/^[A-Za-z]{2}$/, 'an ISO 3166-1 alpha-2 country code such as DE')
    .transform((code) => code.toUpperCase()),
  living_area: z.number().positive().max(100_000).multipleOf(0.01, 'at most two decimals').meta({ description: 'Living area in m²' }),
  rooms: z.number().positive().max(100).multipleOf(0.5),
  floor: z.number().int().min(-5).max(200),
  rent_cold: money('Monthly cold rent (Kaltmiete)'),
  rent_warm: money('Monthly warm rent (Warmmiete)'),
  service_charges: money('Monthly service charges (Nebenkosten)'),
  deposit: money('Deposit (Kaution)'),
  purchase_price: money('Purchase price'),
  available_from: z.iso.date().meta({ description: 'YYYY-MM-DD' }),
  energy_certificate: energyCertificateSchema,
};

type ListingFieldName = keyof typeof listingFields;
export const LISTING_FIELD_NAMES = Object.keys(listingFields) as ListingFieldName[];

/** Fields that can be cleared with null; country and marketing_type always have a value. */
const NOT_CLEARABLE = new Set<ListingFieldName>(['country', 'marketing_type']);

const optionalNullableFields = Object.fromEntries(
  Object.entries(listingFields).map(([name, schema]) => [
    name,
    NOT_CLEARABLE.has(name as ListingFieldName) ? (schema as z.ZodType).optional() : (schema as z.ZodType).nullable().optional(),
  ]),
) as {
  [K in ListingFieldName]: K extends 'country' | 'marketing_type'
    ? z.ZodOptional<(typeof listingFields)[K]>
    : z.ZodOptional<z.ZodNullable<(typeof listingFields)[K]>>;
};

export const upsertListingSchema = z
  .object({
    external_ref: z
      .string()
      .trim()
      .min(1)
      .max(100)
      .regex(/^[\w.:/#-]+$/, 'letters, digits and . _ : / # - only')
      .meta({ description: 'Your CRM’s stable id; the upsert key within your organisation.' }),
    status: z.enum(['draft', 'active']).optional().meta({ description: 'draft (default on create) or active; only draft → active publishes.' }),
    owner_email: z.email().optional().meta({ description: 'Honoured on create only: an owner, admin or member of your organisation.' }),
    attachments: attachmentsInputSchema.optional(),
    ...optionalNullableFields,
  })
  .strict()
  .meta({ id: 'UpsertListingRequest' });

export const patchListingSchema = z
  .object({
    status: z.enum(LISTING_STATUSES).optional(),
    external_ref: z.unknown().optional(),
    attachments: attachmentsInputSchema.optional(),
    ...optionalNullableFields,
  })
  .strict()
  .superRefine((body, ctx) => {
    if (body.external_ref !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['external_ref'], message: 'external_ref is immutable; it cannot be changed with PATCH.' });
    }
  })
  .meta({ id: 'PatchListingRequest' });

export type UpsertListingInput = z.infer<typeof upsertListingSchema>;
export type PatchListingInput = z.infer<typeof patchListingSchema>;
export type ListingFieldValues = { [K in ListingFieldName]?: z.infer<(typeof optionalNullableFields)[K]> };

export const listListingsQuerySchema = z
  .object({
    limit: z.coerce.number().int().min(1).max(100).default(25),
    cursor: z.string().max(200).optional(),
    status: z.enum(LISTING_STATUSES).optional(),
    external_ref: z.string().max(100).optional(),
    updated_since: z.iso.datetime({ offset: true }).optional(),
  })
  .strict();

export const listingIdSchema = z.uuid();

export const idempotencyKeySchema = z.uuidv4();
