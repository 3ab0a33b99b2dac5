/**
 * OpenImmo-Feedback (1.2.x): the XML the German portals attach to a prospect's enquiry. Pure, so
 * the contactRequest workflow's parse step and its tests share one reading of a document that
 * arrives in many dialects: either encoding, namespaced or not, any tag case, two date formats.
 */
import { XMLParser, XMLValidator } from 'fast-xml-parser';

export type RequestFailureCode = 'no_xml_attachment' | 'invalid_xml' | 'unsupported_schema' | 'unknown_organisation' | 'too_large';

export interface ProspectRequest {
  /** objekt/oobj_id: the CRM's external_ref. */
  objectId: string | null;
  /** sender/name, e.g. "ImmobilienScout24". */
  portal: string | null;
  /** objekt/portal_obj_id, else portal_unique_id. */
  portalObjectId: string | null;
  /** ISO 8601 UTC, from sender/datum (+ zeit). */
  requestedAt: string | null;
  salutation: string | null;
  firstName: string | null;
  lastName: string | null;
  company: string | null;
  email: string | null;
  /** tel, else mobil. */
  phone: string | null;
  street: string | null;
  postalCode: string | null;
  city: string | null;
  country: string | null;
  /** interessent/anfrage. */
  message: string | null;
}

export type FeedbackParse =
  | { ok: true; request: ProspectRequest }
  | { ok: false; code: 'invalid_xml' | 'unsupported_schema'; message: string };

/** An element as this module reads it: lower-case local name, text (CDATA included), children. */
interface XmlElement {
  name: string;
  text: string;
  attributes: Record<string, string>;
  children: XmlElement[];
}

const ROOT = 'openimmo_feedback';

// Anywhere, not only in a prolog: a DTD is the door for XXE and entity expansion, and no portal needs one.
const DTD_MARKUP = /<!\s*(?:DOCTYPE|ENTITY)/i;

/** The opening tag of the root, with or without a namespace prefix, in any case. */
const FEEDBACK_ROOT_TAG = /<\s*(?:[A-Za-z_][\w.-]*:)?openimmo_feedback[\s>/]/i;

export function looksLikeOpenImmoFeedback(text: string): boolean {
  return FEEDBACK_ROOT_TAG.test(text);
}

export function normaliseEmail(email: string): string {
  return email.trim().toLowerCase();
}

/**
 * The document's text. A Buffer is decoded by its BOM or its declared encoding. UTF-8 that does
 * not decode falls back to windows-1252: portals that declare UTF-8 (or nothing) and send Latin-1
 * exist, and a mangled umlaut is worth less than the request. ISO-8859-1 is read as
 * windows-1252, as WHATWG does: a superset in every printable position.
 * Throws a RangeError for an encoding TextDecoder does not know.
 */
export function decodeXml(xml: Buffer | Uint8Array | string): string {
  if (typeof xml === 'string') return xml.replace(/^\uFEFF/, '');
  const bytes = xml;
  if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) return new TextDecoder('utf-8').decode(bytes.subarray(3));
  if (bytes[0] === 0xff && bytes[1] === 0xfe) return new TextDecoder('utf-16le').decode(bytes.subarray(2));
  if (bytes[0] === 0xfe && bytes[1] === 0xff) return new TextDecoder('utf-16be').decode(bytes.subarray(2));
  const head = decodeWindows1252(bytes.subarray(0, 200));
  const declared = /^\s*<\?xml[^>]*?\bencoding\s*=\s*["']([A-Za-z0-9._:-]+)["']/i.exec(head)?.[1];
  const label = declared?.toLowerCase() ?? 'utf-8';
  if (label === 'utf-8' || label === 'utf8') {
    try {
      return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    } catch {
      return decodeWindows1252(bytes);
    }
  }
  if (WINDOWS_1252_LABELS.has(label)) return decodeWindows1252(bytes);
  return new TextDecoder(label).decode(bytes);
}

/** The WHATWG labels of windows-1252 (ISO-8859-1 and ASCII among them). */
const WINDOWS_1252_LABELS = new Set([
  'ansi_x3.4-1968', 'ascii', 'cp1252', 'cp819', 'csisolatin1', 'ibm819', 'iso-8859-1', 'iso-ir-100', 'iso8859-1',
  'iso88591', 'iso_8859-1', 'iso_8859-1:1987', 'l1', 'latin1', 'us-ascii', 'windows-1252', 'x-cp1252',
]);

// 0x80–0x9F; the five unassigned bytes keep their C1 code point, as in WHATWG's index.
const CP1252_HIGH = '\u20ac\u0081\u201a\u0192\u201e\u2026\u2020\u2021\u02c6\u2030\u0160\u2039\u0152\u008d\u017d\u008f\u0090\u2018\u2019\u201c\u201d\u2022\u2013\u2014\u02dc\u2122\u0161\u203a\u0153\u009d\u017e\u0178';

/**
 * By hand: Node 20's TextDecoder takes a Latin-1 shortcut for windows-1252 and turns 0x80 into
 * U+0080 instead of the euro sign.
 */
function decodeWindows1252(bytes: Uint8Array): string {
  let text = '';
  for (let start = 0; start < bytes.length; start += 8192) {
    const chunk = bytes.subarray(start, start + 8192);
    const codes = new Array<number>(chunk.length);
    for (let i = 0; i < chunk.length; i += 1) {
      const byte = chunk[i];
      codes[i] = byte >= 0x80 && byte <= 0x9f ? CP1252_HIGH.charCodeAt(byte - 0x80) : byte;
    }
    text += String.fromCharCode(...codes);
  }
  return text;
}

export function parseOpenImmoFeedback(xml: Buffer | string): FeedbackParse {
  let text: string;
  try {
    // The prolog must be the very first thing for a validator; mail bodies often indent it.
    text = decodeXml(xml).trimStart();
  } catch (error) {
    return { ok: false, code: 'invalid_xml', message: `unreadable encoding: ${(error as Error).message}` };
  }
  if (DTD_MARKUP.test(text)) {
    return { ok: false, code: 'invalid_xml', message: 'DOCTYPE and ENTITY declarations are not accepted' };
  }
  const valid = XMLValidator.validate(text);
  if (valid !== true) {
    return { ok: false, code: 'invalid_xml', message: validatorMessage(valid.err) };
  }

  const root = readDocument(text);
  if (!root || root.name !== ROOT) {
    return { ok: false, code: 'unsupported_schema', message: `the root element is <${root?.name ?? 'none'}>, not <${ROOT}>` };
  }
  const objects = root.children.filter((child) => child.name === 'objekt');
  const object = objects.find((candidate) => child(candidate, 'interessent'));
  const prospect = object && child(object, 'interessent');
  if (!object || !prospect) {
    return { ok: false, code: 'unsupported_schema', message: `<${ROOT}> has no <objekt> with an <interessent>` };
  }
  const sender = child(root, 'sender');

  return {
    ok: true,
    request: {
      objectId: value(object, 'oobj_id'),
      portal: value(sender, 'name') ?? value(sender, 'openimmo_anid'),
      portalObjectId: value(object, 'portal_obj_id') ?? value(object, 'portal_unique_id'),
      requestedAt: requestedAt(sender) ?? requestedAt(prospect),
      salutation: value(prospect, 'anrede'),
      firstName: value(prospect, 'vorname'),
      lastName: value(prospect, 'nachname'),
      company: value(prospect, 'firma'),
      email: value(prospect, 'email'),
      phone: value(prospect, 'tel') ?? value(prospect, 'mobil'),
      street: value(prospect, 'strasse'),
      postalCode: value(prospect, 'plz'),
      city: value(prospect, 'ort'),
      // OpenImmo's listing format writes <land iso_land="DEU"/>; some feedback exports copy it.
      country: value(prospect, 'land') ?? attribute(child(prospect, 'land'), 'iso_land'),
      message: value(prospect, 'anfrage'),
    },
  };
}

/**
 * The validator's message with its position. A truncated document it reports as a JSON list of
 * the tags left open, positioned at 1:1, which would send a reader to the wrong place.
 */
function validatorMessage(err: { msg: string; line: number; col: number }): string {
  const open = /^Invalid '(\[[\s\S]*\])' found\.?$/.exec(err.msg);
  if (open) {
    try {
      const tags = JSON.parse(open[1]) as unknown;
      if (Array.isArray(tags)) return `the document ends with elements left open: ${tags.join(' > ')}`;
    } catch {
      // not the list after all: report it as it came
    }
  }
  const position = Number.isFinite(err.line) && Number.isFinite(err.col) ? ` (line ${err.line}, column ${err.col})` : Number.isFinite(err.line) ? ` (line ${err.line})` : '';
  return `${err.msg}${position}`;
}

function child(element: XmlElement | undefined, name: string): XmlElement | undefined {
  return element?.children.find((candidate) => candidate.name === name);
}

function value(element: XmlElement | undefined, name: string): string | null {
  const text = child(element, name)?.text.trim();
  return text ? text : null;
}

function attribute(element: XmlElement | undefined, name: string): string | null {
  const text = element?.attributes[name]?.trim();
  return text ? text : null;
}

function requestedAt(element: XmlElement | undefined): string | null {
  const date = value(element, 'datum');
  if (!date) return null;
  const time = value(element, 'zeit');
  return parseFeedbackDate(time && !/\d:\d/.test(date) ? `${date} ${time}` : date);
}

// ---- XML ------------------------------------------------------------------------------------

/** fast-xml-parser's preserveOrder node: one key (the tag, '#text' or '#cdata') plus ':@'. */
type OrderedNode = Record<string, unknown>;

function readDocument(text: string): XmlElement | undefined {
  const parser = new XMLParser({
    preserveOrder: true,
    ignoreAttributes: false,
    attributeNamePrefix: '',
    removeNSPrefix: true,
    transformTagName: (name: string) => name.toLowerCase(),
    transformAttributeName: (name: string) => name.toLowerCase(),
    // Entities stay literal here (no DTD, no expansion); the five XML ones are decoded below.
    processEntities: false,
    htmlEntities: false,
    parseTagValue: false,
    parseAttributeValue: false,
    trimValues: false,
    cdataPropName: '#cdata',
    ignoreDeclaration: true,
    ignorePiTags: true,
  });
  const nodes = parser.parse(text) as OrderedNode[];
  for (const node of nodes) {
    const element = toElement(node);
    if (element) return element;
  }
  return undefined;
}

function toElement(node: OrderedNode): XmlElement | undefined {
  const name = Object.keys(node).find((key) => key !== ':@');
  if (!name || name.startsWith('#') || name.startsWith('?')) return undefined;
  const element: XmlElement = { name, text: '', attributes: {}, children: [] };
  const attributes = node[':@'];
  if (attributes && typeof attributes === 'object') {
    for (const [key, raw] of Object.entries(attributes as Record<string, unknown>)) {
      if (typeof raw === 'string') element.attributes[key] = decodeEntities(raw);
    }
  }
  const content = node[name];
  for (const part of Array.isArray(content) ? (content as OrderedNode[]) : []) {
    if ('#text' in part) element.text += decodeEntities(String(part['#text']));
    else if ('#cdata' in part) element.text += cdataText(part['#cdata']);
    else {
      const nested = toElement(part);
      if (nested) element.children.push(nested);
    }
  }
  // XML normalises line ends to LF (XML 1.0 §2.11); mail transport made them CRLF.
  element.text = element.text.replace(/\r\n?/g, '\n');
  return element;
}

function cdataText(content: unknown): string {
  if (!Array.isArray(content)) return '';
  return (content as OrderedNode[]).map((part) => String(part['#text'] ?? '')).join('');
}

const PREDEFINED: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

/** The five predefined entities and character references, in one pass (no expansion of results). */
function decodeEntities(text: string): string {
  return text.replace(/&(?:#(\d{1,7})|#x([0-9a-fA-F]{1,6})|(amp|lt|gt|quot|apos));/g, (whole, dec?: string, hex?: string, named?: string) => {
    if (named) return PREDEFINED[named];
    const code = dec ? Number(dec) : Number.parseInt(hex ?? '', 16);
    return code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : whole;
  });
}

// ---- dates ----------------------------------------------------------------------------------

const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,]\d+)?)?)?\s*(Z|[+-]\d{2}(?::?\d{2})?)?$/i;
const GERMAN_DATE = /^(\d{1,2})\.(\d{1,2})\.(\d{4})(?:(?:\s+|\s*,\s*|\s*-\s*)(\d{1,2})[:.](\d{2})(?:[:.](\d{2}))?(?:\s*Uhr)?)?$/i;

/**
 * A feedback date as ISO 8601 UTC, or null when it is neither format. The portals write
 * `2026-11-30`, `2026-11-30T14:05:00(+01:00)` or `30.11.2026( 14:05)`; without an offset the
 * time is German wall-clock time, and a date alone is its midnight there.
 */
export function parseFeedbackDate(text: string): string | null {
  const trimmed = text.trim();
  let parts: [number, number, number, number, number, number];
  let offset: string | undefined;
  const iso = ISO_DATE.exec(trimmed);
  const german = iso ? null : GERMAN_DATE.exec(trimmed);
  if (iso) {
    parts = [+iso[1], +iso[2], +iso[3], +(iso[4] ?? 0), +(iso[5] ?? 0), +(iso[6] ?? 0)];
    offset = iso[7];
  } else if (german) {
    parts = [+german[3], +german[2], +german[1], +(german[4] ?? 0), +(german[5] ?? 0), +(german[6] ?? 0)];
  } else {
    return null;
  }
  const [year, month, day, hour, minute, second] = parts;
  const wall = Date.UTC(year, month - 1, day, hour, minute, second);
  const check = new Date(wall);
  // Date.UTC rolls 31.02. over into March; a date that does not exist is not a date.
  if (check.getUTCMonth() !== month - 1 || check.getUTCDate() !== day || hour > 23 || minute > 59 || second > 59) return null;
  const utc = offset === undefined ? berlinToUtc(wall) : wall - offsetMinutes(offset) * 60_000;
  return new Date(utc).toISOString();
}

function offsetMinutes(offset: string): number {
  if (offset.toUpperCase() === 'Z') return 0;
  const sign = offset.startsWith('-') ? -1 : 1;
  const digits = offset.slice(1).replace(':', '');
  return sign * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2) || 0));
}

const HOUR = 3_600_000;

/**
 * Europe/Berlin wall-clock time (given as if it were UTC) to the instant. CEST runs from the last
 * Sunday of March to the last Sunday of October, both at 01:00 UTC (EU rule since 1996). The hour
 * that repeats in October reads as its first (summer) occurrence; the hour skipped in March as winter time.
 */
export function berlinToUtc(wallClockMs: number): number {
  const summer = wallClockMs - 2 * HOUR;
  return isBerlinSummerTime(summer) ? summer : wallClockMs - HOUR;
}

export function isBerlinSummerTime(utcMs: number): boolean {
  const year = new Date(utcMs).getUTCFullYear();
  return utcMs >= lastSundayAt1Utc(year, 2) && utcMs < lastSundayAt1Utc(year, 9);
}

function lastSundayAt1Utc(year: number, monthIndex: number): number {
  const lastDay = new Date(Date.UTC(year, monthIndex + 1, 0, 1));
  return lastDay.getTime() - lastDay.getUTCDay() * 24 * HOUR;
}
