import type { z } from 'zod';

// Line breaks as text layers see them: LF, CR, NEL and the Unicode line and paragraph separators.
const LINE_BREAK = /[\n\r\u0085\u2028\u2029]/;

export const SINGLE_LINE_MESSAGE = 'must be a single line (no line feed, carriage return or Unicode line separator)';

/**
 * A field that is one line wherever it lands: a portal's title, a mail subject, a log line or a
 * CSV cell. Applied after `.trim()`, so only a break inside the text is refused. Multi-line
 * fields (a description) keep `z.string()`, and every string already refuses other C0 characters
 * (src/http/nulCharacters.ts).
 */
export const singleLine = <T extends z.ZodString>(schema: T): T => schema.refine((text) => !LINE_BREAK.test(text), SINGLE_LINE_MESSAGE) as T;
