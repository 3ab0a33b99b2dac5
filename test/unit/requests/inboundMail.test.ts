import { FeedbackParse, ProspectRequest, parseOpenImmoFeedback } from '../../../src/domain/openimmoFeedback';
import { MailPart, extractInlineFeedback, isXmlPart, readInboundMail, selectFeedbackXml } from '../../../src/requests/inboundMail';
import { LARGE_MAIL_FEEDBACK, largeMail, loadMailFixture, mailFixtureNames, withMessageId } from '../../support/mailFixtures';

/** The README's table: each fixture's headers, a piece of its text, and what parsing it gives. */
interface FixtureExpectation {
  messageId: string;
  sender: string;
  subject: string;
  textContains: string;
  /** Whether readInboundMail finds a feedback candidate, and whether it came as an XML attachment. */
  feedbackXml: boolean;
  anyXmlAttachment: boolean;
  /** A failure code of the parse (or no_xml_attachment when there is nothing to parse), or the request's fields. */
  outcome: 'no_xml_attachment' | 'invalid_xml' | 'unsupported_schema' | Partial<ProspectRequest>;
}

const IS24_ID = '1796130312000.4711.JavaMail.is24@messaging-7.immobilienscout24.de';
const IS24_SUBJECT = 'Kontaktanfrage für Ihr Objekt „3-Zimmer-Wohnung mit Balkon in Berlin-Mitte“ (Scout-ID 987654321)';
const MAX: Partial<ProspectRequest> = {
  objectId: 'IMMO-4711',
  portal: 'ImmobilienScout24',
  portalObjectId: '987654321',
  requestedAt: '2026-11-30T13:05:00.000Z',
  salutation: 'Herr',
  firstName: 'Max',
  lastName: 'Mustermann',
  company: null,
  email: 'max.mustermann@example.com',
  phone: '+49 30 1234567',
  street: 'Musterstraße 1',
  postalCode: '10115',
  city: 'Berlin',
  country: 'DE',
  message: 'Sehr geehrte Damen und Herren, ich interessiere mich für die Wohnung und würde sie gerne besichtigen. Wäre ein Termin am Samstag möglich?',
};

const FIXTURES: Record<string, FixtureExpectation> = {
  'is24-utf8-base64.eml': {
    messageId: IS24_ID,
    sender: 'noreply@immobilienscout24.de',
    subject: IS24_SUBJECT,
    // The soft line break of the quoted-printable body is gone, the umlauts decoded.
    textContains: 'ich interessiere mich für die Wohnung und würde sie gerne besichtigen',
    feedbackXml: true,
    anyXmlAttachment: true,
    outcome: MAX,
  },
  'duplicate-message-id.eml': {
    messageId: IS24_ID,
    sender: 'noreply@immobilienscout24.de',
    subject: IS24_SUBJECT,
    textContains: 'Ihre Objektnummer: IMMO-4711',
    feedbackXml: true,
    anyXmlAttachment: true,
    outcome: MAX,
  },
  'same-prospect-again.eml': {
    messageId: '1796139612000.4722.JavaMail.is24@messaging-2.immobilienscout24.de',
    sender: 'noreply@immobilienscout24.de',
    subject: IS24_SUBJECT,
    textContains: 'Nachtrag: Ich könnte auch am Sonntag vorbeikommen.',
    feedbackXml: true,
    anyXmlAttachment: true,
    outcome: {
      ...MAX,
      requestedAt: '2026-11-30T15:40:00.000Z',
      message: 'Nachtrag: Ich könnte auch am Sonntag vorbeikommen. Ist ein Stellplatz vorhanden?',
    },
  },
  'immowelt-latin1-qp.eml': {
    messageId: '20260715073012.9C21A7F3@mail.immowelt.de',
    sender: 'kontaktanfrage@immowelt.de',
    subject: 'Neue Anfrage für Ihr Objekt IMMO-4712: Helle 2-Zimmer-Wohnung nahe Schloßplatz',
    textContains: 'hat Frau Käthe Müller-Lüdenscheidt eine Anfrage zu Ihrem Objekt "Helle 2-Zimmer-Wohnung nahe Schloßplatz"',
    feedbackXml: true,
    anyXmlAttachment: true,
    outcome: {
      objectId: 'IMMO-4712',
      portal: 'Immowelt',
      portalObjectId: 'iw-2Q7F3K9',
      requestedAt: '2026-07-15T07:30:00.000Z',
      salutation: 'Frau',
      firstName: 'Käthe',
      lastName: 'Müller-Lüdenscheidt',
      company: null,
      email: 'Kaethe.Mueller@Example.DE',
      phone: '+49 171 2345678',
      street: 'Königstraße 12',
      postalCode: '70173',
      city: 'Stuttgart',
      country: 'DEU',
      message: 'Guten Tag, ist die Wohnung noch frei? Ich würde sie gerne mit meinem Mann besichtigen. Grüße, Käthe Müller-Lüdenscheidt',
    },
  },
  'immowelt-two-xml.eml': {
    messageId: '20261201071211.1A2B3C4D@mail.immowelt.de',
    sender: 'kontaktanfrage@immowelt.de',
    subject: 'Neue Anfrage für Ihr Objekt IMMO-4712: Helle 2-Zimmer-Wohnung nahe Schloßplatz',
    textContains: 'Herr Paul Weber (Weber & Söhne KG)',
    feedbackXml: true,
    anyXmlAttachment: true,
    outcome: {
      objectId: 'IMMO-4712',
      firstName: 'Paul',
      lastName: 'Weber',
      company: 'Weber & Söhne KG',
      email: 'p.weber@weber-soehne.example',
      requestedAt: '2026-12-01T07:12:00.000Z',
      message: 'Wir suchen Büro & Wohnen in einem <Objekt>. Passt das?',
    },
  },
  'inline-xml.eml': {
    messageId: 'a3f9c2e1-77b4-4c1e-9d0a-55443322aa01@immonet.de',
    sender: 'noreply@immonet.de',
    subject: 'Anfrage zu Ihrer Immobilie IMMO-4713 – Loft im Belgischen Viertel',
    textContains: 'Frau Aylin Yılmaz interessiert sich für Ihr Objekt IMMO-4713',
    feedbackXml: true,
    anyXmlAttachment: false,
    outcome: {
      objectId: 'IMMO-4713',
      portal: 'Immonet',
      portalObjectId: '55443322',
      requestedAt: '2026-11-30T23:00:00.000Z',
      salutation: 'Frau',
      firstName: 'Aylin',
      lastName: 'Yılmaz',
      company: 'Yılmaz Consulting GmbH',
      email: 'aylin.yilmaz@example.org',
      phone: '0221 9876543',
      street: 'Brüsseler Straße 44',
      postalCode: '50674',
      city: 'Köln',
      country: 'DE',
      message: 'Ich suche Büro & Wohnen unter einem Dach. Ist eine gewerbliche Nutzung möglich?',
    },
  },
  'namespaced-uppercase.eml': {
    messageId: 'WB-771203-20260330081506-0001@wohnungsboerse.net',
    sender: 'anfragen@wohnungsboerse.net',
    subject: 'Kontaktanfrage WB-771203 / IMMO-4711',
    textContains: 'Details siehe Anhang FEEDBACK.XML.',
    feedbackXml: true,
    anyXmlAttachment: true,
    outcome: {
      objectId: 'IMMO-4711',
      portal: 'wohnungsboerse.net',
      portalObjectId: 'WB-771203',
      requestedAt: '2026-03-30T06:15:00.000Z',
      salutation: 'Herr',
      firstName: 'Jonas',
      lastName: 'Becker',
      company: null,
      email: 'jonas.becker@example.net',
      phone: '+49 160 9988776',
      street: 'Lindenallee 7',
      postalCode: '04109',
      city: 'Leipzig',
      country: 'DE',
      message: 'Hallo,\nist die Wohnung <b>ab 01.05.</b> frei? Haustiere (1 Katze) & Fahrradkeller?\nViele Grüße',
    },
  },
  'no-prolog-8bit.eml': {
    messageId: 'KA-2026-08-03-184500-77120@kleinanzeigen.de',
    sender: 'noreply@kleinanzeigen.de',
    subject: 'Neue Nachricht zu Ihrer Anzeige „2-Zimmer-Wohnung Stuttgart-West“',
    textContains: 'Die Anfrage liegt als XML bei.',
    feedbackXml: true,
    anyXmlAttachment: true,
    outcome: {
      objectId: 'IMMO-4712',
      portal: 'Kleinanzeigen',
      portalObjectId: '2871234567',
      requestedAt: '2026-08-03T16:45:00.000Z',
      firstName: 'Ömer',
      lastName: 'Demir',
      street: 'Rotebühlstraße 121',
      phone: '+49 176 55544433',
      email: 'oemer.demir@example.com',
      message: 'Hallo, gilt die Anzeige noch? Ich würde gerne übermorgen um 18 Uhr vorbeischauen.',
    },
  },
  'unknown-object.eml': {
    messageId: '1796220312000.5200.JavaMail.is24@messaging-1.immobilienscout24.de',
    sender: 'noreply@immobilienscout24.de',
    subject: 'Kontaktanfrage für Ihr Objekt „Altbauwohnung in Friedrichshain“ (Scout-ID 987600000)',
    textContains: 'Frau Lena Schmidt',
    feedbackXml: true,
    anyXmlAttachment: true,
    outcome: { objectId: 'DOES-NOT-EXIST', firstName: 'Lena', lastName: 'Schmidt', email: 'lena.schmidt@example.com', requestedAt: '2026-12-01T14:05:00.000Z' },
  },
  'no-xml.eml': {
    messageId: '1796216712000.5102.JavaMail.is24@messaging-4.immobilienscout24.de',
    sender: 'noreply@immobilienscout24.de',
    subject: 'Kontaktanfrage für Ihr Objekt „Reihenhaus in Potsdam“ (Scout-ID 987650000)',
    textContains: 'ich hätte gerne das vollständige Exposé',
    feedbackXml: false,
    anyXmlAttachment: false,
    outcome: 'no_xml_attachment',
  },
  'broken-xml.eml': {
    messageId: '20261128100212.4C11B2E9@mail.immowelt.de',
    sender: 'kontaktanfrage@immowelt.de',
    subject: 'Neue Anfrage für Ihr Objekt IMMO-4712',
    textContains: 'Herr Tobias Kern bittet um Rückruf',
    feedbackXml: true,
    anyXmlAttachment: true,
    outcome: 'invalid_xml',
  },
  'xxe.eml': {
    messageId: 'xxe-20261201-0001@immobilienscout24.de',
    sender: 'noreply@immobilienscout24.de',
    subject: 'Kontaktanfrage IMMO-4711',
    textContains: 'Neue Kontaktanfrage, Details im Anhang.',
    feedbackXml: true,
    anyXmlAttachment: true,
    outcome: 'invalid_xml',
  },
  'billion-laughs.eml': {
    messageId: 'lol-20261201-0001@immobilienscout24.de',
    sender: 'noreply@immobilienscout24.de',
    subject: 'Kontaktanfrage IMMO-4711',
    textContains: 'Neue Kontaktanfrage, Details im Anhang.',
    feedbackXml: true,
    anyXmlAttachment: true,
    outcome: 'invalid_xml',
  },
  'unsupported-schema.eml': {
    messageId: '20261201120000.EXPORT42@mail.immowelt.de',
    sender: 'export@immowelt.de',
    subject: 'Ihr OpenImmo-Export vom 01.12.2026',
    textContains: 'Anbei Ihr täglicher OpenImmo-Export',
    // The only XML part is the listing export: it is still handed over, to be judged by the parser.
    feedbackXml: true,
    anyXmlAttachment: true,
    outcome: 'unsupported_schema',
  },
};

function outcomeOf(feedbackXml: Buffer | null): FixtureExpectation['outcome'] | ProspectRequest {
  if (!feedbackXml) return 'no_xml_attachment';
  const parsed: FeedbackParse = parseOpenImmoFeedback(feedbackXml);
  return parsed.ok ? parsed.request : parsed.code;
}

describe('mail fixtures', () => {
  it('are at least 12, each in the table, with CRLF line ends only', () => {
    const names = mailFixtureNames();
    expect(names.length).toBeGreaterThanOrEqual(12);
    expect(names).toEqual(Object.keys(FIXTURES).sort());
    for (const name of names) {
      const text = loadMailFixture(name).toString('latin1');
      expect({ name, bareLf: /(?<!\r)\n/.test(text), bareCr: /\r(?!\n)/.test(text) }).toEqual({ name, bareLf: false, bareCr: false });
    }
  });

  it('have distinct Message-IDs except the intended duplicate, which differs in bytes', () => {
    const ids = new Map<string, string[]>();
    for (const name of mailFixtureNames()) {
      const id = /^Message-ID:\s*(<[^>]+>)/im.exec(loadMailFixture(name).toString('latin1'))?.[1] ?? '';
      expect(id).not.toBe('');
      ids.set(id, [...(ids.get(id) ?? []), name]);
    }
    const shared = [...ids.values()].filter((names) => names.length > 1);
    expect(shared).toEqual([['duplicate-message-id.eml', 'is24-utf8-base64.eml']]);
    expect(loadMailFixture('duplicate-message-id').equals(loadMailFixture('is24-utf8-base64'))).toBe(false);
  });

  it('are addressed to the agency and dated', () => {
    for (const name of mailFixtureNames()) {
      const header = loadMailFixture(name).toString('latin1').split('\r\n\r\n')[0];
      expect({ name, to: /^To: anfragen@makler-beispiel\.de$/m.test(header), date: /^Date: \w{3}, \d{2} \w{3} 2026 \d{2}:\d{2}:\d{2} [+-]\d{4}$/m.test(header) }).toEqual({ name, to: true, date: true });
    }
  });

  it('carry the immowelt attachment as latin1 bytes and the IS24 text as quoted-printable with soft breaks', () => {
    const immowelt = loadMailFixture('immowelt-latin1-qp').toString('latin1');
    expect(immowelt).toContain('Content-Type: text/plain; charset=ISO-8859-1\r\nContent-Transfer-Encoding: quoted-printable');
    expect(immowelt).toContain('=FC'); // ü in latin1 quoted-printable
    const is24 = loadMailFixture('is24-utf8-base64').toString('latin1');
    expect(is24).toContain('=C3=BC'); // ü in UTF-8 quoted-printable
    expect(is24).toMatch(/=\r\n/);
    expect(is24).toContain('Content-Transfer-Encoding: base64\r\nContent-Disposition: attachment; filename=openimmo_feedback.xml');
  });
});

describe('readInboundMail on every fixture', () => {
  it.each(Object.entries(FIXTURES))('%s', async (name, expected) => {
    const mail = await readInboundMail(loadMailFixture(name));
    expect({
      messageId: mail.messageId,
      sender: mail.sender,
      subject: mail.subject,
      feedbackXml: mail.feedbackXml !== null,
      anyXmlAttachment: mail.anyXmlAttachment,
    }).toEqual({
      messageId: expected.messageId,
      sender: expected.sender,
      subject: expected.subject,
      feedbackXml: expected.feedbackXml,
      anyXmlAttachment: expected.anyXmlAttachment,
    });
    expect(mail.text).toContain(expected.textContains);
    const outcome = outcomeOf(mail.feedbackXml);
    if (typeof expected.outcome === 'string') expect(outcome).toBe(expected.outcome);
    else expect(outcome).toMatchObject(expected.outcome);
  });

  it('gives the immowelt attachment as its latin1 bytes, decoded by the parser', async () => {
    const mail = await readInboundMail(loadMailFixture('immowelt-latin1-qp'));
    expect(mail.feedbackXml?.subarray(0, 43).toString('latin1')).toBe('<?xml version="1.0" encoding="ISO-8859-1"?>');
    expect(mail.feedbackXml?.includes(Buffer.from('Käthe', 'latin1'))).toBe(true);
    expect(mail.feedbackXml?.includes(Buffer.from('Käthe', 'utf8'))).toBe(false);
  });

  it('prefers the feedback over an exposé XML attached before it', async () => {
    const mail = await readInboundMail(loadMailFixture('immowelt-two-xml'));
    expect(mail.feedbackXml?.toString('utf8')).toContain('<openimmo_feedback>');
    expect(mail.feedbackXml?.toString('utf8')).not.toContain('<anbieter>');
  });

  it('explains why the attacks fail', async () => {
    for (const name of ['xxe', 'billion-laughs']) {
      const mail = await readInboundMail(loadMailFixture(name));
      expect(parseOpenImmoFeedback(mail.feedbackXml ?? '')).toEqual({ ok: false, code: 'invalid_xml', message: 'DOCTYPE and ENTITY declarations are not accepted' });
    }
    const broken = await readInboundMail(loadMailFixture('broken-xml'));
    expect(parseOpenImmoFeedback(broken.feedbackXml ?? '')).toEqual({
      ok: false,
      code: 'invalid_xml',
      message: 'the document ends with elements left open: openimmo_feedback > objekt > interessent > vorn',
    });
  });

  it('derives the text from HTML when a mail has no text part', async () => {
    const raw = Buffer.from(
      [
        'From: Portal <noreply@portal.example>',
        'To: anfragen@makler-beispiel.de',
        'Subject: HTML only',
        'Message-ID: <html-only@portal.example>',
        'MIME-Version: 1.0',
        'Content-Type: text/html; charset=UTF-8',
        '',
        '<html><body><p>Frau Ute Lang fragt nach <b>IMMO-4711</b>.</p></body></html>',
        '',
      ].join('\r\n'),
    );
    const mail = await readInboundMail(raw);
    expect(mail.text).toContain('Frau Ute Lang fragt nach IMMO-4711.');
    expect(mail.feedbackXml).toBeNull();
  });

  it('answers nulls and an empty text for a message without the headers or a body', async () => {
    const mail = await readInboundMail(Buffer.from('X-Nothing: here\r\n\r\n'));
    expect(mail).toEqual({ messageId: null, sender: null, subject: null, text: '', feedbackXml: null, anyXmlAttachment: false });
  });

  it('lower-cases the sender and strips the Message-ID brackets', async () => {
    const raw = Buffer.from('From: "ImmoScout" <NoReply@ImmobilienScout24.DE>\r\nMessage-ID:  <Abc.123@X>  \r\nSubject: x\r\n\r\nHallo\r\n');
    const mail = await readInboundMail(raw);
    expect([mail.sender, mail.messageId, mail.text.trim()]).toEqual(['noreply@immobilienscout24.de', 'Abc.123@X', 'Hallo']);
  });
});

const part = (contentType: string, filename: string | null, content: string): MailPart => ({ contentType, filename, content: Buffer.from(content, 'utf8') });
const FEEDBACK = '<openimmo_feedback><objekt><oobj_id>A</oobj_id><interessent/></objekt></openimmo_feedback>';

describe('isXmlPart', () => {
  it('takes the XML types and any .xml name', () => {
    expect(isXmlPart({ contentType: 'application/xml', filename: null })).toBe(true);
    expect(isXmlPart({ contentType: 'Text/XML; charset=ISO-8859-1', filename: null })).toBe(true);
    expect(isXmlPart({ contentType: 'application/vnd.openimmo+xml', filename: null })).toBe(true);
    expect(isXmlPart({ contentType: 'application/octet-stream', filename: 'FEEDBACK.XML' })).toBe(true);
    expect(isXmlPart({ contentType: 'text/plain', filename: 'anfrage.xml ' })).toBe(true);
  });

  it('leaves other parts alone', () => {
    expect(isXmlPart({ contentType: 'application/pdf', filename: 'expose.pdf' })).toBe(false);
    expect(isXmlPart({ contentType: 'application/octet-stream', filename: 'feedback.xml.zip' })).toBe(false);
    expect(isXmlPart({ contentType: 'text/plain', filename: null })).toBe(false);
  });
});

describe('selectFeedbackXml', () => {
  it('prefers an XML part that looks like feedback over an earlier XML part', () => {
    const expose = part('application/xml', 'expose.xml', '<openimmo><anbieter/></openimmo>');
    const feedback = part('text/xml', 'anfrage.xml', FEEDBACK);
    expect(selectFeedbackXml([expose, feedback], FEEDBACK)).toEqual({ feedbackXml: feedback.content, anyXmlAttachment: true });
  });

  it('hands over the first XML part when none looks like feedback, even a broken one', () => {
    const broken = part('application/xml', 'a.xml', '<openimmo_feed');
    const other = part('application/xml', 'b.xml', '<invoice/>');
    expect(selectFeedbackXml([broken, other], '')).toEqual({ feedbackXml: broken.content, anyXmlAttachment: true });
  });

  it('prefers an XML attachment over feedback inline in the text', () => {
    const other = part('application/xml', 'b.xml', '<invoice/>');
    expect(selectFeedbackXml([other], `Hallo\n${FEEDBACK}`).feedbackXml).toBe(other.content);
  });

  it('ignores non-XML attachments, even when they contain feedback', () => {
    expect(selectFeedbackXml([part('text/plain', 'anfrage.txt', FEEDBACK), part('application/pdf', 'x.pdf', '%PDF')], '')).toEqual({ feedbackXml: null, anyXmlAttachment: false });
  });

  it('finds feedback inline in the text as UTF-8', () => {
    const selected = selectFeedbackXml([part('application/pdf', 'x.pdf', '%PDF')], `Guten Tag,\n\n${FEEDBACK.replace('<interessent/>', '<interessent><ort>Köln</ort></interessent>')}\n--\nPortal`);
    expect(selected.anyXmlAttachment).toBe(false);
    expect(selected.feedbackXml?.toString('utf8')).toBe(FEEDBACK.replace('<interessent/>', '<interessent><ort>Köln</ort></interessent>'));
  });

  it('finds a latin1 feedback attachment by its tags', () => {
    const latin1: MailPart = { contentType: 'application/octet-stream', filename: 'x.xml', content: Buffer.from(`<?xml version="1.0" encoding="ISO-8859-1"?>${FEEDBACK}`, 'latin1') };
    const expose = part('application/xml', 'expose.xml', '<openimmo/>');
    expect(selectFeedbackXml([expose, latin1], '').feedbackXml).toBe(latin1.content);
  });

  it('finds nothing in a mail without XML', () => {
    expect(selectFeedbackXml([], 'Bitte rufen Sie mich an.')).toEqual({ feedbackXml: null, anyXmlAttachment: false });
  });
});

describe('extractInlineFeedback', () => {
  it('cuts from the prolog that precedes the root to its closing tag', () => {
    const text = `Anfrage:\n<?xml version="1.0" encoding="UTF-8"?>\n${FEEDBACK}\nMit freundlichen Grüßen`;
    expect(extractInlineFeedback(text)).toBe(`<?xml version="1.0" encoding="UTF-8"?>\n${FEEDBACK}`);
  });

  it('rewrites a declared encoding to UTF-8, since the text is already decoded', () => {
    const text = `<?xml version='1.0' encoding='ISO-8859-1'?>${FEEDBACK}`;
    expect(extractInlineFeedback(text)).toBe(`<?xml version='1.0' encoding='UTF-8'?>${FEEDBACK}`);
  });

  it('does not take a prolog that belongs to something else', () => {
    const text = `<?xml version="1.0"?><other/>\nund dann:\n${FEEDBACK}`;
    expect(extractInlineFeedback(text)).toBe(FEEDBACK);
  });

  it('matches a namespaced, upper-case root with its own closing tag', () => {
    const xml = '<OI:OPENIMMO_FEEDBACK xmlns:OI="x"><OI:OBJEKT/></OI:OPENIMMO_FEEDBACK>';
    expect(extractInlineFeedback(`vorher ${xml} nachher </openimmo_feedback>`)).toBe(xml);
  });

  it('runs to the end of a truncated paste, so that it fails as invalid XML', () => {
    expect(extractInlineFeedback('Hallo <openimmo_feedback><objekt><inter')).toBe('<openimmo_feedback><objekt><inter');
    expect(parseOpenImmoFeedback('<openimmo_feedback><objekt><inter').ok).toBe(false);
  });

  it('finds nothing in text that only mentions it', () => {
    expect(extractInlineFeedback('Im Anhang: openimmo_feedback.xml')).toBeNull();
  });
});

describe('test/support/mailFixtures', () => {
  it('withMessageId replaces the Message-ID and keeps everything else', async () => {
    const original = loadMailFixture('is24-utf8-base64');
    const rewritten = withMessageId(original, 'copy-1@test');
    const [before, after] = [await readInboundMail(original), await readInboundMail(rewritten)];
    expect(after.messageId).toBe('copy-1@test');
    expect({ ...after, messageId: null }).toEqual({ ...before, messageId: null });
    expect(rewritten.toString('latin1').match(/^Message-ID:/gim)).toHaveLength(1);
    expect((await readInboundMail(withMessageId(rewritten, '<copy-2@test>'))).messageId).toBe('copy-2@test');
  });

  it('withMessageId adds one to a message without', async () => {
    const mail = await readInboundMail(withMessageId(Buffer.from('Subject: x\r\n\r\nHallo\r\n'), 'added@test'));
    expect([mail.messageId, mail.subject]).toEqual(['added@test', 'x']);
  });

  it('largeMail has exactly the size asked for and stays a valid request', async () => {
    const bytes = 12 * 1024 * 1024;
    const raw = largeMail(bytes);
    expect(raw.length).toBe(bytes);
    expect(largeMail(10 * 1024 * 1024 + 1).length).toBe(10 * 1024 * 1024 + 1);
    const mail = await readInboundMail(raw);
    expect(mail.messageId).toBe(`large-${bytes}@immobilienscout24.de`);
    expect(outcomeOf(mail.feedbackXml)).toMatchObject(LARGE_MAIL_FEEDBACK);
  });

  it('largeMail refuses a size too small for the message', () => {
    expect(() => largeMail(100)).toThrow(/less than/);
  });
});
