import { simpleParser } from 'mailparser';
import { decodeXml, looksLikeOpenImmoFeedback } from '../domain/openimmoFeedback';

/** What the contactRequest workflow needs of a portal's e-mail, read from its raw bytes. */
export interface InboundMail {
  /** The Message-ID header without its angle brackets. */
  messageId: string | null;
  /** The From address, bare and lower-cased. */
  sender: string | null;
  subject: string | null;
  /** The text/plain part, or text derived from the HTML; '' when there is neither. */
  text: string;
  /** The OpenImmo-Feedback document (see selectFeedbackXml), or null. */
  feedbackXml: Buffer | null;
  /** An XML attachment was present even when it did not look like feedback. */
  anyXmlAttachment: boolean;
}

/** An attachment as selectFeedbackXml sees it. */
export interface MailPart {
  contentType: string;
  filename: string | null;
  content: Buffer;
}

export interface FeedbackSelection {
  feedbackXml: Buffer | null;
  anyXmlAttachment: boolean;
}

const XML_TYPES = new Set(['application/xml', 'text/xml']);

/**
 * A part that claims to be XML. Portals label the attachment text/xml, application/xml, or
 * application/octet-stream with a .xml name, so either the type or the name suffices.
 */
export function isXmlPart(part: Pick<MailPart, 'contentType' | 'filename'>): boolean {
  const type = part.contentType.toLowerCase().split(';')[0].trim();
  return XML_TYPES.has(type) || type.endsWith('+xml') || /\.xml$/i.test(part.filename?.trim() ?? '');
}

/**
 * Which part is the feedback: an XML attachment that looks like OpenImmo-Feedback, else the first
 * XML attachment (a broken one must still reach the parser, to be told apart from a mail with no
 * XML at all), else a feedback document pasted into the text body, else none.
 */
export function selectFeedbackXml(attachments: readonly MailPart[], text: string): FeedbackSelection {
  const xmlParts = attachments.filter(isXmlPart);
  const feedback = xmlParts.find((part) => looksLikeOpenImmoFeedback(safeDecode(part.content)));
  if (feedback) return { feedbackXml: feedback.content, anyXmlAttachment: true };
  if (xmlParts.length > 0) return { feedbackXml: xmlParts[0].content, anyXmlAttachment: true };
  const inline = extractInlineFeedback(text);
  return { feedbackXml: inline === null ? null : Buffer.from(inline, 'utf8'), anyXmlAttachment: false };
}

function safeDecode(content: Buffer): string {
  try {
    return decodeXml(content);
  } catch {
    // An encoding TextDecoder does not know: the tag names are ASCII in every encoding that matters.
    return content.toString('latin1');
  }
}

/**
 * The feedback document inside a text body: from its `<?xml` prolog (when one directly precedes
 * it) or its root tag to the matching closing tag, or to the end of the text when that is missing
 * (a truncated paste then fails as invalid XML, not as a mail without XML). The text was decoded
 * by mailparser, so a declared encoding no longer holds and is rewritten to UTF-8.
 */
export function extractInlineFeedback(text: string): string | null {
  const open = /<\s*(?:([A-Za-z_][\w.-]*):)?openimmo_feedback[\s>/]/i.exec(text);
  if (!open) return null;
  let start = open.index;
  const before = text.slice(0, start);
  const prolog = /<\?xml[^>]*\?>\s*$/i.exec(before);
  if (prolog) start = prolog.index;
  const prefix = open[1] ? `${escapeRegExp(open[1])}:` : '';
  const close = new RegExp(`</\\s*${prefix}openimmo_feedback\\s*>`, 'i');
  const afterOpen = open.index + open[0].length;
  const closing = close.exec(text.slice(afterOpen));
  const end = closing ? afterOpen + closing.index + closing[0].length : text.length;
  return text.slice(start, end).replace(/^(<\?xml[^>]*?\bencoding\s*=\s*)(["'])[^"']*\2/i, '$1$2UTF-8$2');
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

export async function readInboundMail(raw: Buffer): Promise<InboundMail> {
  const parsed = await simpleParser(raw, { skipTextToHtml: true, skipImageLinks: true });
  const text = parsed.text ?? '';
  const attachments: MailPart[] = parsed.attachments.map((attachment) => ({
    contentType: attachment.contentType ?? '',
    filename: attachment.filename ?? null,
    content: attachment.content,
  }));
  const address = parsed.from?.value[0]?.address?.trim();
  return {
    messageId: parsed.messageId?.trim().replace(/^<|>$/g, '') || null,
    sender: address ? address.toLowerCase() : null,
    subject: parsed.subject ?? null,
    text,
    ...selectFeedbackXml(attachments, text),
  };
}
