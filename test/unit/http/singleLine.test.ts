import { z } from 'zod';
import { SINGLE_LINE_MESSAGE, singleLine } from '../../../src/http/singleLine';
import { upsertListingSchema } from '../../../src/listings/schema';

describe('singleLine', () => {
  const title = singleLine(z.string().trim().min(1).max(200));

  it('accepts one line, and breaks that trim removes at either end', () => {
    expect(title.parse('Altbau mit Balkon')).toBe('Altbau mit Balkon');
    expect(title.parse('\nAltbau mit Balkon\r\n')).toBe('Altbau mit Balkon');
  });

  it.each(['a\nb', 'a\rb', 'a\u0085b', 'a\u2028b', 'a\u2029b'])('refuses a line break inside the text (%j)', (text) => {
    const result = title.safeParse(text);
    expect(result.success).toBe(false);
    expect(result.error?.issues[0]?.message).toBe(SINGLE_LINE_MESSAGE);
  });

  it('keeps the schema\'s other rules', () => {
    expect(title.safeParse('').success).toBe(false);
    expect(title.safeParse('x'.repeat(201)).success).toBe(false);
  });

  it('applies to a listing\'s one-line fields, names each, and leaves the description multi-line', () => {
    const result = upsertListingSchema.safeParse({
      external_ref: 'LF-1',
      title: 'Zwei\nZeilen',
      street: 'Haupt\rstraße',
      house_number: '1\n',
      city: 'Ber\u2028lin',
      description: 'Erste Zeile\nZweite Zeile',
      attachments: [{ url: 'https://cdn.example.com/a.jpg', kind: 'image', title: 'Front\nansicht' }],
    });
    expect(result.success).toBe(false);
    const paths = result.error!.issues.map((issue) => issue.path.join('.')).sort();
    expect(paths).toEqual(['attachments.0.title', 'city', 'street', 'title']);
  });
});
