/**
 * Automatic moderation of a listing before it is published.
 *
 * PURE and deterministic: imported by Temporal workflow code, so no I/O, no node built-ins, no
 * clock, no randomness and no locale-dependent behaviour. Everything it needs (the policy and the
 * other listings at the same normalised address) is passed in by the caller.
 *
 * Rules, in the order their reasons are reported:
 *  1. required fields for activation                      → reject  MISSING_REQUIRED_FIELD
 *  2. energy certificate for residential property (GEG §87) → reject  MISSING_ENERGY_CERTIFICATE
 *  3. contact data (phone / e-mail / URL) in title or text → review  CONTACT_DATA_IN_TEXT
 *  4. prohibited words in title or text                    → reject  PROHIBITED_WORD
 *  5. implausible cold rent per m²                          → review  IMPLAUSIBLE_RENT
 *  6. possible duplicate at the same address               → review  POSSIBLE_DUPLICATE
 */

export const RESIDENTIAL_PROPERTY_TYPES = ['apartment', 'house', 'room'] as const;

export interface EnergyCertificate {
  type: 'consumption' | 'demand';
  energy_value: number;
  main_energy_source: string;
  year_of_construction: number;
  efficiency_class: 'A+' | 'A' | 'B' | 'C' | 'D' | 'E' | 'F' | 'G' | 'H';
}

export interface ModerationListing {
  title: string | null;
  description: string | null;
  property_type: string | null;
  marketing_type: 'rent' | 'sale';
  street: string | null;
  house_number: string | null;
  zip_code: string | null;
  city: string | null;
  country: string;
  living_area: number | null;
  rooms: number | null;
  rent_cold: number | null;
  purchase_price: number | null;
  energy_certificate: EnergyCertificate | null;
  /**
   * The state of the title image among the listing's URL attachments (docs/ATTACHMENTS.md);
   * absent or null when it has none. Documents are never waited for.
   */
  title_image_state?: 'pending' | 'fetching' | 'ready' | 'failed' | null;
}

export interface ModerationPolicy {
  prohibitedWords: string[];
  rentPerSqmMin: number;
  rentPerSqmMax: number;
  /** Relative living-area tolerance for duplicate detection, e.g. 0.1 = ±10 %. */
  duplicateAreaTolerance: number;
}

/** Another listing of the same organisation at the same normalised address (found by the activity). */
export interface DuplicateCandidate {
  id: string;
  external_ref: string;
  living_area: number | null;
}

export type ModerationOutcome = 'approved' | 'rejected' | 'needs_review';

export type ModerationReasonCode =
  | 'MISSING_REQUIRED_FIELD'
  | 'MISSING_ENERGY_CERTIFICATE'
  | 'CONTACT_DATA_IN_TEXT'
  | 'PROHIBITED_WORD'
  | 'IMPLAUSIBLE_RENT'
  | 'POSSIBLE_DUPLICATE'
  | 'TITLE_IMAGE_NOT_READY';

export interface ModerationReason {
  code: ModerationReasonCode;
  field?: string;
  message: string;
  severity: 'reject' | 'review';
}

export interface ModerationResult {
  outcome: ModerationOutcome;
  reasons: ModerationReason[];
}

export const DEFAULT_MODERATION_POLICY: ModerationPolicy = Object.freeze({
  prohibitedWords: Object.freeze([]) as unknown as string[],
  rentPerSqmMin: 3,
  rentPerSqmMax: 60,
  duplicateAreaTolerance: 0.1,
});

// ---------------------------------------------------------------------------------------------
// Small helpers
// ---------------------------------------------------------------------------------------------

type TextField = 'title' | 'description';
const TEXT_FIELDS: readonly TextField[] = ['title', 'description'];

function isBlank(value: string | null | undefined): boolean {
  return typeof value !== 'string' || value.trim() === '';
}

/**
 * A finite number, or null. Numeric strings are accepted too: Postgres `numeric` columns arrive as
 * strings through pg, and a stray "58.00" must not make a present value look missing.
 */
function toNumber(value: unknown): number | null {
  if (typeof value === 'number') return Number.isFinite(value) ? value : null;
  if (typeof value === 'string' && value.trim() !== '') {
    const parsed = Number(value);
    return Number.isFinite(parsed) ? parsed : null;
  }
  return null;
}

function normalizedPropertyType(listing: ModerationListing): string {
  return typeof listing.property_type === 'string' ? listing.property_type.trim().toLowerCase() : '';
}

function isResidential(propertyType: string): boolean {
  return (RESIDENTIAL_PROPERTY_TYPES as readonly string[]).includes(propertyType);
}

/** A number for messages: no trailing zeros, at most two decimals, no locale. */
function formatNumber(value: number): string {
  return String(Math.round(value * 100) / 100);
}

// ---------------------------------------------------------------------------------------------
// Rule 1 + 2: required fields and energy certificate (activation only)
// ---------------------------------------------------------------------------------------------

function requiredFieldReasons(listing: ModerationListing): ModerationReason[] {
  const propertyType = normalizedPropertyType(listing);
  const missing: string[] = [];
  if (isBlank(listing.title)) missing.push('title');
  if (isBlank(listing.property_type)) missing.push('property_type');
  if (isBlank(listing.zip_code)) missing.push('zip_code');
  if (isBlank(listing.city)) missing.push('city');
  if (toNumber(listing.living_area) === null) missing.push('living_area');
  if (listing.marketing_type === 'rent' && toNumber(listing.rent_cold) === null) missing.push('rent_cold');
  if (listing.marketing_type === 'sale' && toNumber(listing.purchase_price) === null) missing.push('purchase_price');
  if ((propertyType === 'apartment' || propertyType === 'house') && isBlank(listing.street)) missing.push('street');
  return missing.map((field) => ({
    code: 'MISSING_REQUIRED_FIELD',
    field,
    message: `The field "${field}" is required to activate the listing.`,
    severity: 'reject',
  }));
}

function energyCertificateReasons(listing: ModerationListing): ModerationReason[] {
  if (!isResidential(normalizedPropertyType(listing)) || listing.energy_certificate != null) return [];
  return [
    {
      code: 'MISSING_ENERGY_CERTIFICATE',
      field: 'energy_certificate',
      message:
        'Residential listings need an energy certificate (GEG §87) before they can be advertised; add the energy certificate data.',
      severity: 'reject',
    },
  ];
}

// ---------------------------------------------------------------------------------------------
// Rule 3: contact data in title / description
// ---------------------------------------------------------------------------------------------

type ContactKind = 'phone number' | 'e-mail address' | 'URL';

/** user@example.de, also obfuscated as "user (at) example (dot) de" / "user [at] example.de". */
const EMAIL_PATTERN =
  /(?<![\p{L}\p{N}._%+-])[\p{L}\p{N}._%+-]+(?:@|\s*[\[(]\s*(?:at|ät)\s*[\])]\s*)[\p{L}\p{N}-]+(?:(?:\.|\s*[\[(]\s*(?:dot|punkt)\s*[\])]\s*)[\p{L}\p{N}-]+)*(?:\.|\s*[\[(]\s*(?:dot|punkt)\s*[\])]\s*)\p{L}{2,}/giu;

const SCHEME_URL_PATTERN = /(?<![\p{L}\p{N}_])(?:https?|ftp):\/\/\S+/giu;
const WWW_URL_PATTERN = /(?<![\p{L}\p{N}_.\-@/])www\.[\p{L}\p{N}-]+\S*/giu;

/**
 * Top-level domains recognised for bare domains ("example.de/immo"). Deliberately short, and
 * matched in lower case only, so that German prose with a missing blank after a full stop
 * ("...Garten.Die Wohnung", "z.B.") is not mistaken for a domain. Short TLDs that are common
 * German/English words (es, it, be, me, so, to, in) are left out on purpose.
 */
const BARE_DOMAIN_TLDS = [
  'de', 'com', 'net', 'org', 'eu', 'info', 'biz', 'io', 'at', 'ch', 'li', 'lu', 'nl', 'pl', 'fr', 'dk', 'uk',
  'immo', 'online', 'shop', 'site', 'website', 'berlin', 'hamburg', 'koeln', 'cologne', 'nrw', 'bayern', 'ruhr',
  'saarland',
];
const BARE_DOMAIN_PATTERN = new RegExp(
  `(?<![\\p{L}\\p{N}_.\\-@/])(?:[\\p{L}\\p{N}][\\p{L}\\p{N}-]*\\.)+(?:${BARE_DOMAIN_TLDS.join('|')})(?![\\p{L}\\p{N}_-])(?:/\\S*)?`,
  'gu',
);

/** IBANs are not phone numbers; they are removed before phone detection (DE89 3704 0044 0532 0130 00). */
const IBAN_PATTERN = /(?<![A-Za-z0-9])[A-Z]{2}\d{2}(?:[ \t\u00a0]?[A-Z0-9]{4}){2,7}(?:[ \t\u00a0]?[A-Z0-9]{1,3})?(?![A-Za-z0-9])/g;

/**
 * A run of digits joined by the separators people use in phone numbers: blanks, hyphens/dashes,
 * slashes and parentheses — but not "." or ",", which separate thousands, decimals and dates.
 * It may start with "+" and/or "(".
 */
const NUMBER_RUN_PATTERN = /(?<![\p{L}\p{N}_])\+?\(?\d(?:[ \t\u00a0\-/()\u2010-\u2015]*\d)*/gu;

/** A run directly followed by a currency or unit is an amount, not a phone number. */
const UNIT_AFTER_PATTERN = /^[ \t\u00a0]*(?:€|eur(?![\p{L}])|euro|m²|m2(?![\p{L}\p{N}])|qm(?![\p{L}])|%|,-|\.-)/iu;

/** "Tel.", "Telefon:", "Tel.-Nr.:", "Mobil", "Handy", "Fax", "WhatsApp", ... right before the number. */
const PHONE_KEYWORD_BEFORE_PATTERN =
  /(?<![\p{L}])(?:tel(?:efon)?|fon|phone|mobil(?:e|funk)?|handy|fax|whats\s?app|rufnummer|kontakt|contact)(?:[ .:\-]*(?:nr|nummer|no|number))?[ .:\-/]*$/iu;

const NATIONAL_MIN_DIGITS = 7; // 030 1234 (shortest realistic: area code + 4-digit subscriber)
const NATIONAL_MAX_DIGITS = 13; // 0 + at most 12 national digits
const INTERNATIONAL_MIN_DIGITS = 8; // digits after "+" / "00", incl. country code
const INTERNATIONAL_MAX_DIGITS = 16; // E.164 allows 15; +1 for a written trunk "(0)"
const KEYWORD_MIN_DIGITS = 6;

/**
 * Digits in groups[start..] taken whole, as long as the total stays within max. Returns 0 when the
 * first group alone is already longer than max (an order number, not a phone number).
 */
function leadingDigits(groups: string[], start: number, max: number): number {
  let total = 0;
  for (let index = start; index < groups.length; index += 1) {
    if (total + groups[index].length > max) break;
    total += groups[index].length;
  }
  return total;
}

function runContainsPhoneNumber(groups: string[], hasPlus: boolean, keywordBefore: boolean): boolean {
  if (hasPlus) {
    const total = leadingDigits(groups, 0, INTERNATIONAL_MAX_DIGITS);
    if (groups[0][0] !== '0' && total >= INTERNATIONAL_MIN_DIGITS) return true;
  } else if (keywordBefore) {
    const total = leadingDigits(groups, 0, NATIONAL_MAX_DIGITS + 2);
    if (total >= KEYWORD_MIN_DIGITS) return true;
  }
  // A phone number may also start inside the run ("Baujahr 1998 0171 1234567").
  for (let index = hasPlus ? 1 : 0; index < groups.length; index += 1) {
    const group = groups[index];
    // An area code has at least three digits (030, 089, 0171); this keeps "01/03/2025",
    // "01/2025" and "08-18 Uhr" out.
    if (group.length < 3 || group[0] !== '0') continue;
    if (group[1] === '0') {
      // 0049 30 1234567: international with the "00" prefix.
      if (group[2] === '0') continue;
      const total = leadingDigits(groups, index, INTERNATIONAL_MAX_DIGITS + 2) - 2;
      if (total >= INTERNATIONAL_MIN_DIGITS) return true;
    } else {
      const total = leadingDigits(groups, index, NATIONAL_MAX_DIGITS);
      if (total >= NATIONAL_MIN_DIGITS) return true;
    }
  }
  return false;
}

function containsPhoneNumber(text: string): boolean {
  for (const match of text.matchAll(NUMBER_RUN_PATTERN)) {
    const run = match[0];
    const start = match.index ?? 0;
    if (UNIT_AFTER_PATTERN.test(text.slice(start + run.length, start + run.length + 8))) continue;
    const groups = run.match(/\d+/g) ?? [];
    if (groups.length === 0) continue;
    const keywordBefore = PHONE_KEYWORD_BEFORE_PATTERN.test(text.slice(Math.max(0, start - 30), start));
    if (runContainsPhoneNumber(groups, run.startsWith('+'), keywordBefore)) return true;
  }
  return false;
}

/** Replaces every match with a blank; reports whether there was one. No shared lastIndex state. */
function strip(text: string, pattern: RegExp): { text: string; found: boolean } {
  let found = false;
  const rest = text.replace(pattern, () => {
    found = true;
    return ' ';
  });
  return { text: rest, found };
}

/** Which kinds of contact data a text contains, in a fixed order. Never returns the data itself. */
function findContactData(text: string): ContactKind[] {
  // E-mail addresses first (their domain would otherwise count as a URL), then URLs (a number in
  // a URL path is not a phone number), then IBANs (not contact data, but digit groups).
  const email = strip(text.normalize('NFC'), EMAIL_PATTERN);
  let rest = email.text;
  let hasUrl = false;
  for (const pattern of [SCHEME_URL_PATTERN, WWW_URL_PATTERN, BARE_DOMAIN_PATTERN]) {
    const stripped = strip(rest, pattern);
    hasUrl = hasUrl || stripped.found;
    rest = stripped.text;
  }
  rest = strip(rest, IBAN_PATTERN).text;

  const kinds: ContactKind[] = [];
  if (containsPhoneNumber(rest)) kinds.push('phone number');
  if (email.found) kinds.push('e-mail address');
  if (hasUrl) kinds.push('URL');
  return kinds;
}

const WITH_ARTICLE: Record<ContactKind, string> = {
  'phone number': 'a phone number',
  'e-mail address': 'an e-mail address',
  URL: 'a URL',
};

function contactDataReasons(listing: ModerationListing): ModerationReason[] {
  const reasons: ModerationReason[] = [];
  for (const field of TEXT_FIELDS) {
    const text = listing[field];
    if (typeof text !== 'string' || text === '') continue;
    for (const kind of findContactData(text)) {
      reasons.push({
        code: 'CONTACT_DATA_IN_TEXT',
        field,
        message: `The ${field} appears to contain ${WITH_ARTICLE[kind]}; contact data is not allowed in listing texts.`,
        severity: 'review',
      });
    }
  }
  return reasons;
}

// ---------------------------------------------------------------------------------------------
// Rule 4: prohibited words
// ---------------------------------------------------------------------------------------------

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

const WORD_CHARACTER = /[\p{L}\p{N}_]/u;

/**
 * Case-insensitive, whole word (Unicode letters/digits count as word characters), blanks flexible.
 * Like \b, the boundary is only required where the word itself starts/ends with a word character,
 * so "!!!" matches in "Top-Lage!!!".
 */
function wholeWordPattern(word: string): RegExp {
  const body = word
    .split(/\s+/)
    .map(escapeRegExp)
    .join('\\s+');
  const before = WORD_CHARACTER.test(word[0]) ? '(?<![\\p{L}\\p{N}_])' : '';
  const after = WORD_CHARACTER.test(word[word.length - 1]) ? '(?![\\p{L}\\p{N}_])' : '';
  return new RegExp(`${before}${body}${after}`, 'iu');
}

function prohibitedWordReasons(listing: ModerationListing, prohibitedWords: readonly string[]): ModerationReason[] {
  const words: string[] = [];
  const seen = new Set<string>();
  for (const raw of prohibitedWords) {
    if (typeof raw !== 'string') continue;
    const word = raw.normalize('NFC').trim();
    const key = word.toLowerCase();
    if (word === '' || seen.has(key)) continue;
    seen.add(key);
    words.push(word);
  }
  if (words.length === 0) return [];
  const patterns = words.map((word) => ({ word, pattern: wholeWordPattern(word) }));

  const reasons: ModerationReason[] = [];
  for (const field of TEXT_FIELDS) {
    const text = listing[field];
    if (typeof text !== 'string' || text === '') continue;
    const normalized = text.normalize('NFC');
    for (const { word, pattern } of patterns) {
      if (!pattern.test(normalized)) continue;
      reasons.push({
        code: 'PROHIBITED_WORD',
        field,
        message: `The ${field} contains the prohibited word "${word}".`,
        severity: 'reject',
      });
    }
  }
  return reasons;
}

// ---------------------------------------------------------------------------------------------
// Rule 5: rent per m²
// ---------------------------------------------------------------------------------------------

function rentReasons(listing: ModerationListing, policy: ModerationPolicy): ModerationReason[] {
  if (listing.marketing_type !== 'rent') return [];
  const rent = toNumber(listing.rent_cold);
  const area = toNumber(listing.living_area);
  if (rent === null || area === null || area <= 0) return [];
  const perSqm = rent / area;
  if (perSqm >= policy.rentPerSqmMin && perSqm <= policy.rentPerSqmMax) return [];
  const rounded = (Math.round(perSqm * 100) / 100).toFixed(2);
  return [
    {
      code: 'IMPLAUSIBLE_RENT',
      field: 'rent_cold',
      message:
        `The cold rent of ${rounded} €/m² is outside the plausible range of ` +
        `${formatNumber(policy.rentPerSqmMin)}–${formatNumber(policy.rentPerSqmMax)} €/m².`,
      severity: 'review',
    },
  ];
}

// ---------------------------------------------------------------------------------------------
// Rule 6: possible duplicates at the same address
// ---------------------------------------------------------------------------------------------

function isSimilarArea(area: number, other: number, tolerance: number): boolean {
  // Tiny slack for binary floating point (e.g. 58 × 0.1), so the documented bound is inclusive.
  const slack = 1e-9 * Math.max(1, Math.abs(area));
  return Math.abs(other - area) <= Math.abs(tolerance) * Math.abs(area) + slack;
}

function duplicateReasons(listing: ModerationListing, duplicates: readonly DuplicateCandidate[], policy: ModerationPolicy): ModerationReason[] {
  const area = toNumber(listing.living_area);
  const seen = new Set<string>();
  const matches: { candidate: DuplicateCandidate; otherArea: number | null }[] = [];
  for (const candidate of duplicates) {
    if (seen.has(candidate.id)) continue;
    seen.add(candidate.id);
    const otherArea = toNumber(candidate.living_area);
    if (area === null || otherArea === null || isSimilarArea(area, otherArea, policy.duplicateAreaTolerance)) {
      matches.push({ candidate, otherArea });
    }
  }
  // Independent of the order the activity's query returned them in (plain code-unit comparison,
  // not localeCompare: that would depend on the runtime's ICU data).
  const byRef = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
  matches.sort((a, b) => byRef(a.candidate.external_ref, b.candidate.external_ref) || byRef(a.candidate.id, b.candidate.id));

  return matches.map(({ candidate, otherArea }) => ({
    code: 'POSSIBLE_DUPLICATE',
    message:
      `Possible duplicate of listing "${candidate.external_ref}" at the same address ` +
      (area !== null && otherArea !== null
        ? `(living area ${formatNumber(otherArea)} m² vs. ${formatNumber(area)} m²).`
        : '(living area unknown).'),
    severity: 'review',
  }));
}

/**
 * Publication does not wait for attachments, but the portal's first picture must exist: an
 * activation whose title image is not fetched yet (or failed) goes to an operator.
 */
function titleImageReasons(listing: ModerationListing): ModerationReason[] {
  const state = listing.title_image_state;
  if (!state || state === 'ready') return [];
  return [
    {
      code: 'TITLE_IMAGE_NOT_READY',
      field: 'attachments',
      message:
        state === 'failed'
          ? 'The title image could not be fetched; send a working URL (see its failure_code).'
          : 'The title image is still being fetched; activate the listing after property.processing_succeeded.',
      severity: 'review',
    },
  ];
}

// ---------------------------------------------------------------------------------------------
// Entry point
// ---------------------------------------------------------------------------------------------

export function moderateListing(
  listing: ModerationListing,
  options: { policy: ModerationPolicy; duplicates: DuplicateCandidate[]; activating: boolean },
): ModerationResult {
  const { policy, duplicates, activating } = options;
  const reasons: ModerationReason[] = [
    ...(activating ? requiredFieldReasons(listing) : []),
    ...(activating ? energyCertificateReasons(listing) : []),
    ...(activating ? titleImageReasons(listing) : []),
    ...contactDataReasons(listing),
    ...prohibitedWordReasons(listing, policy.prohibitedWords ?? []),
    ...rentReasons(listing, policy),
    ...duplicateReasons(listing, duplicates ?? [], policy),
  ];
  const outcome: ModerationOutcome = reasons.some((reason) => reason.severity === 'reject')
    ? 'rejected'
    : reasons.some((reason) => reason.severity === 'review')
      ? 'needs_review'
      : 'approved';
  return { outcome, reasons };
}
