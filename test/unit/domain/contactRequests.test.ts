import { bareAddress, inboxAddress, messageIdFromHeaders, messageKey, organisationSlug, parsingFailedPayload } from '../../../src/domain/contactRequests';

describe('organisationSlug', () => {
  it.each([
    ['Müller & Söhne Immobilien GmbH', 'muller-sohne-immobilien'],
    ['Großstadt Makler', 'grossstadt-makler'],
    ['  --ACME--  ', 'acme'],
    ['日本', 'org'],
    ['a'.repeat(40), 'a'.repeat(24)],
    ['Haus am See - Verwaltung', 'haus-am-see-verwaltung'],
  ])('%s → %s', (name, slug) => {
    expect(organisationSlug(name)).toBe(slug);
  });

  it('never ends in a dash after cutting', () => {
    expect(organisationSlug('abcdefghijklmnopqrstuvw yz')).toBe('abcdefghijklmnopqrstuvw');
  });
});

describe('inboxAddress', () => {
  it('is <slug>.<random>@<domain>, lower case', () => {
    expect(inboxAddress('Makler Beispiel', 'AbC234', 'Inbound.Example.COM')).toBe('makler-beispiel.abc234@inbound.example.com');
  });
});

describe('bareAddress', () => {
  it.each([
    ['ImmobilienScout24 <NoReply@ImmobilienScout24.de>', 'noreply@immobilienscout24.de'],
    ['max@example.com', 'max@example.com'],
    ['  Max@Example.com ', 'max@example.com'],
    ['"Weber, Paul" <paul@weber.example>', 'paul@weber.example'],
    ['not an address', null],
    ['', null],
    [null, null],
  ])('%s → %s', (text, address) => {
    expect(bareAddress(text)).toBe(address);
  });
});

describe('messageKey', () => {
  it('is the Message-ID without brackets, else the hash of the bytes', () => {
    expect(messageKey('<abc@portal.example>', 'f00')).toBe('id:abc@portal.example');
    expect(messageKey(' abc@portal.example ', 'f00')).toBe('id:abc@portal.example');
    expect(messageKey(null, 'f00')).toBe('sha256:f00');
    expect(messageKey('  ', 'f00')).toBe('sha256:f00');
  });
});

describe('parsingFailedPayload', () => {
  it('has exactly the fields of reference 003 and cuts the body to 10,000 characters', () => {
    const payload = parsingFailedPayload(
      'inbox-1',
      'no_xml_attachment',
      'no XML',
      { sender: 'a@b.example', recipient: 'x.y@inbound.example', subject: 'Anfrage', body: 'x'.repeat(12_000) },
      new Date('2026-12-01T10:00:00Z'),
    );
    expect(Object.keys(payload)).toEqual(['targetId', 'createdAt', 'failureCode', 'failureMessage', 'sender', 'recipient', 'subject', 'body']);
    expect(payload).toMatchObject({ targetId: 'inbox-1', createdAt: '2026-12-01T10:00:00.000Z', failureCode: 'no_xml_attachment', sender: 'a@b.example' });
    expect(payload.body).toHaveLength(10_000);
  });
});

describe('messageIdFromHeaders', () => {
  it.each([
    ['From: a@b.example\r\nMessage-ID: <abc.123@portal.example>\r\nSubject: x\r\n\r\n', 'abc.123@portal.example'],
    ['message-id:\r\n <folded@portal.example>\r\n\r\n', 'folded@portal.example'],
    ['MESSAGE-ID: bare@portal.example\n\n', 'bare@portal.example'],
    ['X-Original-Message-ID: <not-this@x>\r\nSubject: none\r\n\r\n', null],
    ['Subject: no id\r\n\r\n', null],
    ['Message-ID: <>\r\n\r\n', null],
  ])('%j → %s', (header, id) => {
    expect(messageIdFromHeaders(header)).toBe(id);
  });
});
