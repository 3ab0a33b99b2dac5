import fs from 'node:fs';
import path from 'node:path';

/** Portal e-mails as they arrive (test/fixtures/mail, README.md there says what each covers). */
export const MAIL_FIXTURES_DIR = path.resolve(__dirname, '../fixtures/mail');

/** The raw bytes of `name` (with or without `.eml`). */
export function loadMailFixture(name: string): Buffer {
  const file = name.endsWith('.eml') ? name : `${name}.eml`;
  return fs.readFileSync(path.join(MAIL_FIXTURES_DIR, file));
}

export function mailFixtureNames(): string[] {
  return fs
    .readdirSync(MAIL_FIXTURES_DIR)
    .filter((file) => file.endsWith('.eml'))
    .sort();
}

const CRLF = '\r\n';

/**
 * `raw` with its Message-ID header replaced by `id` (angle brackets optional), or added when it
 * has none. Only the header block is touched; a folded Message-ID loses its continuation lines.
 */
export function withMessageId(raw: Buffer, id: string): Buffer {
  const bare = id.trim().replace(/^<|>$/g, '');
  const end = raw.indexOf(`${CRLF}${CRLF}`);
  const headerEnd = end >= 0 ? end + CRLF.length : raw.length;
  const header = raw.subarray(0, headerEnd).toString('latin1');
  const rest = raw.subarray(headerEnd);
  const line = `Message-ID: <${bare}>${CRLF}`;
  const pattern = /^Message-ID:[^\r\n]*\r\n(?:[ \t][^\r\n]*\r\n)*/im;
  const rewritten = pattern.test(header) ? header.replace(pattern, line) : `${line}${header}`;
  return Buffer.concat([Buffer.from(rewritten, 'latin1'), rest]);
}

/** The feedback largeMail carries, and what parsing it must give. */
export const LARGE_MAIL_FEEDBACK = {
  objectId: 'IMMO-4711',
  firstName: 'Greta',
  lastName: 'Großmann',
  email: 'greta.grossmann@example.com',
} as const;

const LARGE_MAIL_XML = `<?xml version="1.0" encoding="UTF-8"?>
<openimmo_feedback>
  <version>1.2.7</version>
  <sender><name>ImmobilienScout24</name><openimmo_anid>IS24</openimmo_anid><datum>01.12.2026 09:00</datum></sender>
  <objekt>
    <portal_unique_id>987654321</portal_unique_id>
    <portal_obj_id>987654321</portal_obj_id>
    <oobj_id>${LARGE_MAIL_FEEDBACK.objectId}</oobj_id>
    <interessent>
      <anrede>Frau</anrede>
      <vorname>${LARGE_MAIL_FEEDBACK.firstName}</vorname>
      <nachname>${LARGE_MAIL_FEEDBACK.lastName}</nachname>
      <email>${LARGE_MAIL_FEEDBACK.email}</email>
      <tel>+49 30 7654321</tel>
      <anfrage>Anbei meine Unterlagen (Gehaltsnachweise, Schufa) als PDF.</anfrage>
    </interessent>
  </objekt>
</openimmo_feedback>
`;

/** Bytes that do not compress, so nothing along the way can shrink the message (xorshift32). */
function noise(length: number): Buffer {
  const out = Buffer.alloc(length);
  let state = 0x9e3779b9;
  for (let i = 0; i < length; i += 1) {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    out[i] = state & 0xff;
  }
  return out;
}

function base64Lines(data: Buffer): string {
  return data.toString('base64').replace(/.{1,76}/g, (line) => `${line}${CRLF}`);
}

/**
 * A valid portal e-mail of exactly `bytes` bytes: a text part, the feedback XML
 * (LARGE_MAIL_FEEDBACK) and a PDF-labelled attachment of incompressible bytes filling the rest.
 * The size is exact so that tests can sit on either side of a limit (10 MB = 10 * 1024 * 1024).
 */
export function largeMail(bytes: number, messageId = `large-${bytes}@immobilienscout24.de`): Buffer {
  const boundary = '----=_Part_large_1796200000000';
  const head = [
    'Date: Tue, 01 Dec 2026 09:00:00 +0100',
    'From: ImmobilienScout24 <noreply@immobilienscout24.de>',
    'To: anfragen@makler-beispiel.de',
    `Message-ID: <${messageId}>`,
    'Subject: Kontaktanfrage mit Unterlagen (Scout-ID 987654321)',
    'MIME-Version: 1.0',
    `Content-Type: multipart/mixed; boundary="${boundary}"`,
    '',
    `--${boundary}`,
    'Content-Type: text/plain; charset=UTF-8',
    'Content-Transfer-Encoding: 8bit',
    '',
    `${LARGE_MAIL_FEEDBACK.firstName} ${LARGE_MAIL_FEEDBACK.lastName} hat Ihnen Unterlagen gesendet.`,
    `--${boundary}`,
    'Content-Type: application/xml; charset=UTF-8; name=openimmo_feedback.xml',
    'Content-Transfer-Encoding: base64',
    'Content-Disposition: attachment; filename=openimmo_feedback.xml',
    '',
    base64Lines(Buffer.from(LARGE_MAIL_XML, 'utf8')) + `--${boundary}`,
    'Content-Type: application/pdf; name=Unterlagen.pdf',
    'Content-Transfer-Encoding: base64',
    'Content-Disposition: attachment; filename=Unterlagen.pdf',
    '',
    '',
  ].join(CRLF);
  const tail = `--${boundary}--${CRLF}`;
  const fixed = Buffer.byteLength(head) + Buffer.byteLength(tail);
  const room = bytes - fixed;
  if (room < 0) throw new Error(`largeMail: ${bytes} bytes is less than the ${fixed} the message needs`);
  // Each full base64 line is 78 bytes (76 + CRLF) and carries 57 bytes; what is left over goes
  // into the epilogue after the closing boundary, which MIME readers ignore.
  const lines = Math.floor(room / 78);
  const body = base64Lines(noise(lines * 57));
  const epilogue = CRLF.repeat(Math.floor((room - body.length) / 2)) + ' '.repeat((room - body.length) % 2);
  const raw = Buffer.from(head + body + tail + epilogue, 'utf8');
  if (raw.length !== bytes) throw new Error(`largeMail: built ${raw.length} bytes instead of ${bytes}`);
  return raw;
}
