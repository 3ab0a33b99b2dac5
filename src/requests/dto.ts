export interface ContactRequestRow {
  id: string;
  seq: string;
  org_id: string;
  inbox_id: string;
  mail_id: string;
  listing_id: string | null;
  object_id: string | null;
  portal: string | null;
  portal_object_id: string | null;
  requested_at: Date | null;
  salutation: string | null;
  first_name: string | null;
  last_name: string | null;
  company: string | null;
  email: string | null;
  email_key: string | null;
  phone: string | null;
  street: string | null;
  postal_code: string | null;
  city: string | null;
  country: string | null;
  message: string | null;
  raw_object_key: string | null;
  created_at: Date;
  erased_at: Date | null;
}

/** The fields erased under GDPR Art. 17: everything that describes the prospect or holds their words. */
export const PERSONAL_FIELDS = ['salutation', 'first_name', 'last_name', 'company', 'email', 'email_key', 'phone', 'street', 'postal_code', 'city', 'country', 'message', 'raw_object_key'] as const;

/** A request as GET /api/v1/requests/{id} returns it, and as request.created carries it. */
export function toRequestDto(row: ContactRequestRow) {
  return {
    id: row.id,
    listing_id: row.listing_id,
    external_ref: row.object_id,
    portal: row.portal,
    portal_object_id: row.portal_object_id,
    inbox_id: row.inbox_id,
    prospect: {
      salutation: row.salutation,
      first_name: row.first_name,
      last_name: row.last_name,
      company: row.company,
      email: row.email,
      phone: row.phone,
      address: { street: row.street, postal_code: row.postal_code, city: row.city, country: row.country },
    },
    message: row.message,
    requested_at: row.requested_at?.toISOString() ?? null,
    created_at: row.created_at.toISOString(),
    erased_at: row.erased_at?.toISOString() ?? null,
  };
}

export type ContactRequestDto = ReturnType<typeof toRequestDto>;
