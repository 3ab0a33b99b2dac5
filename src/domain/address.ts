/** A postal address as listings carry it. */
export interface PostalAddress {
  street?: string | null;
  house_number?: string | null;
  zip_code?: string | null;
  city?: string | null;
  country: string;
}

function normalizePart(text: string | null | undefined): string {
  return (text ?? '')
    .toLowerCase()
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/ß/g, 'ss')
    .replace(/str(asse|\.)?(?=\s|$)/g, 'strasse')
    .replace(/[^a-z0-9]+/g, ' ')
    .trim();
}

/**
 * The canonical form of an address: case, accents, punctuation, whitespace and the German
 * "Str." / "Straße" spelling do not matter. Used as the geocode cache key, for duplicate
 * detection and to decide whether an update changed the address.
 */
export function normalizeAddress(address: PostalAddress): string {
  return [address.street, address.house_number, address.zip_code, address.city, address.country].map(normalizePart).join('|');
}

export function addressChanged(before: PostalAddress, after: PostalAddress): boolean {
  return normalizeAddress(before) !== normalizeAddress(after);
}

/** Just the address of a larger record, so nothing else travels to the geocoder or into history. */
export function postalAddressOf(record: PostalAddress): PostalAddress {
  return {
    street: record.street ?? null,
    house_number: record.house_number ?? null,
    zip_code: record.zip_code ?? null,
    city: record.city ?? null,
    country: record.country,
  };
}
