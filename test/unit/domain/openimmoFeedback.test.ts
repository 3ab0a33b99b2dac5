import {
  FeedbackParse,
  ProspectRequest,
  berlinToUtc,
  decodeXml,
  isBerlinSummerTime,
  looksLikeOpenImmoFeedback,
  normaliseEmail,
  parseFeedbackDate,
  parseOpenImmoFeedback,
} from '../../../src/domain/openimmoFeedback';

const FULL = `<?xml version="1.0" encoding="UTF-8"?>
<openimmo_feedback>
  <version>1.2.7</version>
  <sender>
    <name>ImmobilienScout24</name>
    <openimmo_anid>IS24</openimmo_anid>
    <datum>30.11.2026 14:05</datum>
    <makler_id>12345</makler_id>
    <regi_id>REG-1</regi_id>
  </sender>
  <objekt>
    <portal_unique_id>987654321</portal_unique_id>
    <portal_obj_id>PO-1</portal_obj_id>
    <oobj_id>IMMO-4711</oobj_id>
    <zusatz_refnr/>
    <expose_url>https://www.immobilienscout24.de/expose/987654321?a=1&amp;b=2</expose_url>
    <bezeichnung>3-Zimmer-Wohnung</bezeichnung>
    <interessent>
      <anrede>Herr</anrede>
      <vorname>Max</vorname>
      <nachname>Mustermann</nachname>
      <firma>Muster GmbH</firma>
      <strasse>Musterstraße 1</strasse>
      <plz>01067</plz>
      <ort>Dresden</ort>
      <land>DE</land>
      <tel>+49 351 1234567</tel>
      <mobil>+49 151 7654321</mobil>
      <email>Max.Mustermann@Example.com</email>
      <anfrage>Ich interessiere mich für die Wohnung.</anfrage>
      <int_id>INT-1</int_id>
    </interessent>
  </objekt>
</openimmo_feedback>
`;

const FULL_REQUEST: ProspectRequest = {
  objectId: 'IMMO-4711',
  portal: 'ImmobilienScout24',
  portalObjectId: 'PO-1',
  requestedAt: '2026-11-30T13:05:00.000Z',
  salutation: 'Herr',
  firstName: 'Max',
  lastName: 'Mustermann',
  company: 'Muster GmbH',
  email: 'Max.Mustermann@Example.com',
  phone: '+49 351 1234567',
  street: 'Musterstraße 1',
  postalCode: '01067',
  city: 'Dresden',
  country: 'DE',
  message: 'Ich interessiere mich für die Wohnung.',
};

function request(parse: FeedbackParse): ProspectRequest {
  if (!parse.ok) throw new Error(`expected a request, got ${parse.code}: ${parse.message}`);
  return parse.request;
}

function failure(parse: FeedbackParse): { code: string; message: string } {
  if (parse.ok) throw new Error(`expected a failure, got ${JSON.stringify(parse.request)}`);
  return { code: parse.code, message: parse.message };
}

/** A minimal feedback document around an <interessent> body and extra <sender>/<objekt> content. */
function minimal(prospect: string, { sender = '', objekt = '<oobj_id>IMMO-1</oobj_id>' } = {}): string {
  return `<openimmo_feedback><sender>${sender}</sender><objekt>${objekt}<interessent>${prospect}</interessent></objekt></openimmo_feedback>`;
}

describe('parseOpenImmoFeedback: fields', () => {
  it('reads every field of a complete document', () => {
    expect(request(parseOpenImmoFeedback(FULL))).toEqual(FULL_REQUEST);
  });

  it('reads the same from a Buffer', () => {
    expect(request(parseOpenImmoFeedback(Buffer.from(FULL, 'utf8')))).toEqual(FULL_REQUEST);
  });

  it('keeps postal codes as strings (a leading zero is not a number)', () => {
    expect(request(parseOpenImmoFeedback(FULL)).postalCode).toBe('01067');
  });

  it('falls back to mobil without tel and to portal_unique_id without portal_obj_id', () => {
    const parsed = request(parseOpenImmoFeedback(minimal('<tel> </tel><mobil>+49 171 1</mobil>', { objekt: '<portal_unique_id>U-9</portal_unique_id><portal_obj_id/>' })));
    expect(parsed.phone).toBe('+49 171 1');
    expect(parsed.portalObjectId).toBe('U-9');
    expect(parsed.objectId).toBeNull();
  });

  it('falls back to openimmo_anid without a sender name', () => {
    expect(request(parseOpenImmoFeedback(minimal('', { sender: '<name/><openimmo_anid>IMMOWELT</openimmo_anid>' }))).portal).toBe('IMMOWELT');
  });

  it('reads the country from iso_land when land has no text', () => {
    expect(request(parseOpenImmoFeedback(minimal('<land iso_land="DEU"/>'))).country).toBe('DEU');
  });

  it('turns empty and whitespace-only values into null and trims the rest', () => {
    const parsed = request(parseOpenImmoFeedback(minimal('<anrede></anrede><vorname>  Max  </vorname><nachname>\n  \n</nachname><firma/><email> a@b.de </email>')));
    expect(parsed).toEqual({
      ...Object.fromEntries(Object.keys(FULL_REQUEST).map((key) => [key, null])),
      objectId: 'IMMO-1',
      firstName: 'Max',
      email: 'a@b.de',
    });
  });

  it('gives null for every field an interessent without children does not carry', () => {
    const parsed = request(parseOpenImmoFeedback('<openimmo_feedback><objekt><interessent/></objekt></openimmo_feedback>'));
    expect(Object.values(parsed).every((value) => value === null)).toBe(true);
  });

  it('keeps the inner line breaks of a message, as LF', () => {
    expect(request(parseOpenImmoFeedback(minimal('<anfrage>\r\n  Zeile 1\r\nZeile 2\r\n</anfrage>'))).message).toBe('Zeile 1\nZeile 2');
  });

  it('decodes the predefined entities and character references once, not recursively', () => {
    const parsed = request(parseOpenImmoFeedback(minimal('<firma>Weber &amp; Söhne</firma><anfrage>&lt;b&gt; &quot;x&quot; &apos;y&apos; &#228;&#xFC; &amp;lt; &nbsp;</anfrage>')));
    expect(parsed.company).toBe('Weber & Söhne');
    expect(parsed.message).toBe('<b> "x" \'y\' äü &lt; &nbsp;');
  });

  it('reads CDATA as text, without decoding entities inside it', () => {
    const parsed = request(parseOpenImmoFeedback(minimal('<anfrage><![CDATA[Haustiere <b>&amp;</b> Keller?]]></anfrage><ort>Köln<![CDATA[-Süd]]></ort>')));
    expect(parsed.message).toBe('Haustiere <b>&amp;</b> Keller?');
    expect(parsed.city).toBe('Köln-Süd');
  });

  it('takes the first objekt and the first interessent', () => {
    const xml = `<openimmo_feedback>
      <objekt><oobj_id>FIRST</oobj_id><interessent><vorname>Anna</vorname></interessent><interessent><vorname>Bert</vorname></interessent></objekt>
      <objekt><oobj_id>SECOND</oobj_id><interessent><vorname>Carl</vorname></interessent></objekt>
    </openimmo_feedback>`;
    const parsed = request(parseOpenImmoFeedback(xml));
    expect(parsed.objectId).toBe('FIRST');
    expect(parsed.firstName).toBe('Anna');
  });

  it('skips an objekt without interessent for the first one that has one', () => {
    const xml = '<openimmo_feedback><objekt><oobj_id>EMPTY</oobj_id></objekt><objekt><oobj_id>REAL</oobj_id><interessent><vorname>Dora</vorname></interessent></objekt></openimmo_feedback>';
    expect(request(parseOpenImmoFeedback(xml)).objectId).toBe('REAL');
  });

  it('does not read fields of nested elements as the interessent’s own', () => {
    const parsed = request(parseOpenImmoFeedback(minimal('<vorname>Eva</vorname><bemerkung><email>not-this@example.com</email></bemerkung>')));
    expect(parsed.email).toBeNull();
  });
});

describe('parseOpenImmoFeedback: dialects', () => {
  it('strips namespace prefixes and lower-cases tags', () => {
    const xml = `<oi:OPENIMMO_FEEDBACK xmlns:oi="http://www.openimmo.de">
      <oi:Sender><oi:NAME>Portal</oi:NAME></oi:Sender>
      <oi:OBJEKT><oi:OOBJ_ID>IMMO-9</oi:OOBJ_ID><oi:Interessent><oi:VorName>Jonas</oi:VorName><oi:EMAIL>j@example.net</oi:EMAIL></oi:Interessent></oi:OBJEKT>
    </oi:OPENIMMO_FEEDBACK>`;
    const parsed = request(parseOpenImmoFeedback(xml));
    expect([parsed.portal, parsed.objectId, parsed.firstName, parsed.email]).toEqual(['Portal', 'IMMO-9', 'Jonas', 'j@example.net']);
  });

  it('accepts a default namespace', () => {
    const xml = '<openimmo_feedback xmlns="http://www.openimmo.de"><objekt><oobj_id>NS</oobj_id><interessent/></objekt></openimmo_feedback>';
    expect(request(parseOpenImmoFeedback(xml)).objectId).toBe('NS');
  });

  it('accepts a document without prolog and with leading whitespace before the prolog', () => {
    expect(request(parseOpenImmoFeedback(FULL.replace(/^<\?xml[^>]*\?>\s*/, ''))).objectId).toBe('IMMO-4711');
    expect(request(parseOpenImmoFeedback(`\r\n  \t${FULL}`)).objectId).toBe('IMMO-4711');
  });

  it('decodes a Buffer declared ISO-8859-1 from latin1 bytes', () => {
    const xml = `<?xml version="1.0" encoding="ISO-8859-1"?>${minimal('<nachname>Müller-Lüdenscheidt</nachname><strasse>Königstraße 1</strasse><anfrage>Grüße</anfrage>')}`;
    const bytes = Buffer.from(xml, 'latin1');
    expect(bytes.includes(Buffer.from([0xfc]))).toBe(true); // ü as one latin1 byte
    const parsed = request(parseOpenImmoFeedback(bytes));
    expect([parsed.lastName, parsed.street, parsed.message]).toEqual(['Müller-Lüdenscheidt', 'Königstraße 1', 'Grüße']);
  });

  it('decodes windows-1252 (the euro sign at 0x80)', () => {
    const bytes = Buffer.concat([
      Buffer.from("<?xml version='1.0' encoding='windows-1252'?><openimmo_feedback><objekt><interessent><anfrage>Miete 900 ", 'latin1'),
      Buffer.from([0x80]),
      Buffer.from('</anfrage></interessent></objekt></openimmo_feedback>', 'latin1'),
    ]);
    expect(request(parseOpenImmoFeedback(bytes)).message).toBe('Miete 900 €');
  });

  it('decodes UTF-8 without a declaration and strips a BOM', () => {
    const utf8 = Buffer.from(minimal('<ort>München</ort>'), 'utf8');
    expect(request(parseOpenImmoFeedback(utf8)).city).toBe('München');
    expect(request(parseOpenImmoFeedback(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), utf8]))).city).toBe('München');
    expect(request(parseOpenImmoFeedback(`\uFEFF${minimal('<ort>Köln</ort>')}`)).city).toBe('Köln');
  });

  it('falls back to windows-1252 when bytes declared UTF-8 are latin1', () => {
    const bytes = Buffer.from(`<?xml version="1.0" encoding="UTF-8"?>${minimal('<ort>Fürth</ort>')}`, 'latin1');
    expect(request(parseOpenImmoFeedback(bytes)).city).toBe('Fürth');
  });

  it('uses a string as it is, whatever its declaration says', () => {
    expect(request(parseOpenImmoFeedback(`<?xml version="1.0" encoding="ISO-8859-1"?>${minimal('<ort>Görlitz</ort>')}`)).city).toBe('Görlitz');
  });

  it('reports an encoding it does not know as invalid_xml', () => {
    expect(failure(parseOpenImmoFeedback(Buffer.from(`<?xml version="1.0" encoding="x-klingon"?>${minimal('')}`)))).toEqual({
      code: 'invalid_xml',
      message: expect.stringContaining('unreadable encoding'),
    });
  });
});

describe('parseOpenImmoFeedback: dates', () => {
  const at = (datum: string, zeit?: string) =>
    request(parseOpenImmoFeedback(minimal('', { sender: `<datum>${datum}</datum>${zeit === undefined ? '' : `<zeit>${zeit}</zeit>`}` }))).requestedAt;

  it('reads German dates in winter (CET, UTC+1) and summer (CEST, UTC+2)', () => {
    expect(at('30.11.2026 14:05')).toBe('2026-11-30T13:05:00.000Z');
    expect(at('15.07.2026 14:05')).toBe('2026-07-15T12:05:00.000Z');
    expect(at('5.7.2026 9:30:15')).toBe('2026-07-05T07:30:15.000Z');
    expect(at('30.11.2026, 14:05 Uhr')).toBe('2026-11-30T13:05:00.000Z');
  });

  it('reads ISO dates with and without offset', () => {
    expect(at('2026-11-30T14:05:00')).toBe('2026-11-30T13:05:00.000Z');
    expect(at('2026-07-15T14:05:00')).toBe('2026-07-15T12:05:00.000Z');
    expect(at('2026-07-15 14:05')).toBe('2026-07-15T12:05:00.000Z');
    expect(at('2026-11-30T14:05:00Z')).toBe('2026-11-30T14:05:00.000Z');
    expect(at('2026-11-30T14:05:00+01:00')).toBe('2026-11-30T13:05:00.000Z');
    expect(at('2026-07-15T14:05:00.250+0200')).toBe('2026-07-15T12:05:00.000Z');
    expect(at('2026-07-15T14:05:00-04:00')).toBe('2026-07-15T18:05:00.000Z');
  });

  it('reads a date alone as midnight in Berlin', () => {
    expect(at('30.11.2026')).toBe('2026-11-29T23:00:00.000Z');
    expect(at('2026-07-15')).toBe('2026-07-14T22:00:00.000Z');
  });

  it('adds a separate zeit to a date without time', () => {
    expect(at('30.11.2026', '14:05')).toBe('2026-11-30T13:05:00.000Z');
    expect(at('2026-07-15', '09:30:00')).toBe('2026-07-15T07:30:00.000Z');
    expect(at('2026-07-15T10:00:00', '09:30')).toBe('2026-07-15T08:00:00.000Z');
  });

  it('gives null for what is not a date, without failing the request', () => {
    expect(at('gestern')).toBeNull();
    expect(at('31.02.2026')).toBeNull();
    expect(at('2026-13-01')).toBeNull();
    expect(at('2026-11-30T25:00:00')).toBeNull();
  });

  it('falls back to a date on the interessent when the sender has none', () => {
    expect(request(parseOpenImmoFeedback(minimal('<datum>01.12.2026 08:00</datum>'))).requestedAt).toBe('2026-12-01T07:00:00.000Z');
  });
});

describe('parseFeedbackDate and the Berlin DST rule', () => {
  it('switches at 01:00 UTC on the last Sundays of March and October', () => {
    // 2026: 29 March and 25 October.
    expect(isBerlinSummerTime(Date.UTC(2026, 2, 29, 0, 59))).toBe(false);
    expect(isBerlinSummerTime(Date.UTC(2026, 2, 29, 1, 0))).toBe(true);
    expect(isBerlinSummerTime(Date.UTC(2026, 9, 25, 0, 59))).toBe(true);
    expect(isBerlinSummerTime(Date.UTC(2026, 9, 25, 1, 0))).toBe(false);
    // 2027: 28 March and 31 October (a month whose last day is the Sunday).
    expect(isBerlinSummerTime(Date.UTC(2027, 2, 28, 1, 0))).toBe(true);
    expect(isBerlinSummerTime(Date.UTC(2027, 9, 31, 0, 59))).toBe(true);
    expect(isBerlinSummerTime(Date.UTC(2027, 9, 31, 1, 0))).toBe(false);
  });

  it('converts the wall-clock hours around both switches', () => {
    expect(parseFeedbackDate('29.03.2026 01:59')).toBe('2026-03-29T00:59:00.000Z');
    expect(parseFeedbackDate('29.03.2026 03:00')).toBe('2026-03-29T01:00:00.000Z');
    expect(parseFeedbackDate('25.10.2026 01:59')).toBe('2026-10-24T23:59:00.000Z');
    // 02:30 happens twice on 25 October; the first (summer) one is taken.
    expect(parseFeedbackDate('25.10.2026 02:30')).toBe('2026-10-25T00:30:00.000Z');
    expect(parseFeedbackDate('25.10.2026 03:00')).toBe('2026-10-25T02:00:00.000Z');
  });

  it('agrees with the ICU time zone database for every hour of 2025 to 2027', () => {
    const berlin = new Intl.DateTimeFormat('en-CA', {
      timeZone: 'Europe/Berlin',
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
    });
    const wallClock = (utc: number) => {
      const p = Object.fromEntries(berlin.formatToParts(new Date(utc)).map((part) => [part.type, part.value]));
      return Date.UTC(Number(p.year), Number(p.month) - 1, Number(p.day), Number(p.hour), Number(p.minute));
    };
    const mismatches: string[] = [];
    for (let utc = Date.UTC(2025, 0, 1); utc < Date.UTC(2028, 0, 1); utc += 3_600_000) {
      const wall = wallClock(utc);
      const back = berlinToUtc(wall);
      // Inside the repeated October hour both instants show the same wall clock; either is right.
      if (back !== utc && wallClock(back) !== wall) mismatches.push(new Date(utc).toISOString());
    }
    expect(mismatches).toEqual([]);
  });
});

describe('parseOpenImmoFeedback: rejection', () => {
  it('rejects an external entity (XXE) before parsing', () => {
    const xml = `<?xml version="1.0"?><!DOCTYPE openimmo_feedback [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>${minimal('<nachname>&xxe;</nachname>')}`;
    expect(failure(parseOpenImmoFeedback(xml))).toEqual({ code: 'invalid_xml', message: 'DOCTYPE and ENTITY declarations are not accepted' });
  });

  it('rejects billion laughs', () => {
    const entities = ['<!ENTITY lol "lol">'];
    for (let i = 1; i <= 9; i += 1) entities.push(`<!ENTITY lol${i} "${`&lol${i === 1 ? '' : i - 1};`.repeat(10)}">`);
    const xml = `<?xml version="1.0"?>\n<!DOCTYPE lolz [\n${entities.join('\n')}\n]>\n${minimal('<nachname>&lol9;</nachname>')}`;
    const started = Date.now();
    expect(failure(parseOpenImmoFeedback(xml)).code).toBe('invalid_xml');
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it('rejects DOCTYPE and ENTITY in any case and anywhere, also without an internal subset', () => {
    for (const xml of [
      `<!doctype openimmo_feedback SYSTEM "http://evil.example/x.dtd">${minimal('')}`,
      `<?xml version="1.0"?>\n<!DocType openimmo_feedback>${minimal('')}`,
      minimal('<anfrage><![CDATA[<!ENTITY x "y">]]></anfrage>'),
      `<!-- hi -->\n<! ENTITY x "y">${minimal('')}`,
    ]) {
      expect(failure(parseOpenImmoFeedback(xml)).code).toBe('invalid_xml');
    }
  });

  it('rejects a DOCTYPE in a latin1 Buffer too', () => {
    const xml = Buffer.from(`<?xml version="1.0" encoding="ISO-8859-1"?><!DOCTYPE x [<!ENTITY a "ä">]>${minimal('<ort>&a;</ort>')}`, 'latin1');
    expect(failure(parseOpenImmoFeedback(xml)).code).toBe('invalid_xml');
  });

  it('reports malformed XML with the validator’s message and position', () => {
    expect(failure(parseOpenImmoFeedback('<openimmo_feedback>\n<objekt>\n<interessent></objekt>'))).toEqual({
      code: 'invalid_xml',
      message: "Expected closing tag 'interessent' (opened in line 3, col 1) instead of closing tag 'objekt'. (line 3, column 14)",
    });
  });

  it('reports a document cut off mid-tag with the elements left open', () => {
    const cut = FULL.slice(0, FULL.indexOf('<vorname>') + 5);
    expect(failure(parseOpenImmoFeedback(cut))).toEqual({
      code: 'invalid_xml',
      message: 'the document ends with elements left open: openimmo_feedback > objekt > interessent > vorn',
    });
  });

  it('reports text, an empty document and two roots as invalid_xml', () => {
    expect(failure(parseOpenImmoFeedback('Sehr geehrte Damen und Herren')).code).toBe('invalid_xml');
    expect(failure(parseOpenImmoFeedback('')).code).toBe('invalid_xml');
    expect(failure(parseOpenImmoFeedback(Buffer.alloc(0))).code).toBe('invalid_xml');
    expect(failure(parseOpenImmoFeedback(`${minimal('')}${minimal('')}`)).code).toBe('invalid_xml');
  });

  it('reports an OpenImmo listing export as unsupported_schema', () => {
    const xml = '<?xml version="1.0"?><openimmo><uebertragung art="OFFLINE"/><anbieter><immobilie><verwaltung_techn><objektnr_extern>IMMO-4711</objektnr_extern></verwaltung_techn></immobilie></anbieter></openimmo>';
    expect(failure(parseOpenImmoFeedback(xml))).toEqual({ code: 'unsupported_schema', message: 'the root element is <openimmo>, not <openimmo_feedback>' });
  });

  it('reports an unrelated XML document as unsupported_schema', () => {
    const invoice = '<?xml version="1.0" encoding="UTF-8"?><rsm:CrossIndustryInvoice xmlns:rsm="urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100"><rsm:ExchangedDocument/></rsm:CrossIndustryInvoice>';
    expect(failure(parseOpenImmoFeedback(invoice))).toEqual({ code: 'unsupported_schema', message: 'the root element is <crossindustryinvoice>, not <openimmo_feedback>' });
  });

  it('reports feedback without objekt or interessent as unsupported_schema', () => {
    const expected = { code: 'unsupported_schema', message: '<openimmo_feedback> has no <objekt> with an <interessent>' };
    expect(failure(parseOpenImmoFeedback('<openimmo_feedback><sender><name>X</name></sender></openimmo_feedback>'))).toEqual(expected);
    expect(failure(parseOpenImmoFeedback('<openimmo_feedback><objekt><oobj_id>IMMO-1</oobj_id></objekt></openimmo_feedback>'))).toEqual(expected);
    expect(failure(parseOpenImmoFeedback('<openimmo_feedback><interessent><vorname>X</vorname></interessent></openimmo_feedback>'))).toEqual(expected);
  });
});

describe('looksLikeOpenImmoFeedback', () => {
  it('recognises the root tag with or without prefix, in any case', () => {
    expect(looksLikeOpenImmoFeedback(FULL)).toBe(true);
    expect(looksLikeOpenImmoFeedback('<oi:OpenImmo_Feedback xmlns:oi="x">')).toBe(true);
    expect(looksLikeOpenImmoFeedback('Text davor\n<OPENIMMO_FEEDBACK>')).toBe(true);
    expect(looksLikeOpenImmoFeedback('<openimmo_feedback/>')).toBe(true);
  });

  it('does not take a listing export, a look-alike tag or the bare word for feedback', () => {
    expect(looksLikeOpenImmoFeedback('<openimmo><anbieter/></openimmo>')).toBe(false);
    expect(looksLikeOpenImmoFeedback('<openimmo_feedbackx>')).toBe(false);
    expect(looksLikeOpenImmoFeedback('Anhang: openimmo_feedback.xml')).toBe(false);
  });
});

describe('normaliseEmail', () => {
  it('trims and lower-cases', () => {
    expect(normaliseEmail('  Max.Mustermann@Example.COM \n')).toBe('max.mustermann@example.com');
    expect(normaliseEmail(FULL_REQUEST.email ?? '')).toBe(normaliseEmail('max.mustermann@example.com'));
  });
});

describe('decodeXml', () => {
  it('decodes UTF-16 by its BOM', () => {
    const le = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('<a>ü</a>', 'utf16le')]);
    expect(decodeXml(le)).toBe('<a>ü</a>');
  });

  it('reads the declared encoding with single quotes and in any case', () => {
    expect(decodeXml(Buffer.from("<?xml version='1.0' encoding='iso-8859-1'?><a>ß</a>", 'latin1'))).toBe("<?xml version='1.0' encoding='iso-8859-1'?><a>ß</a>");
  });
});
