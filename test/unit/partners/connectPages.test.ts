import { escapeHtml, linkPage, messagePage } from '../../../src/partners/connectPages';

describe('connect pages', () => {
  it('escapes every interpolated value', () => {
    expect(escapeHtml(`<script>alert("x")</script>&'`)).toBe('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;&#39;');
    const html = linkPage({
      actionBase: '/connect/t',
      partnerName: '<img src=x onerror=alert(1)>',
      agencyId: '"><b>',
      expiresAt: new Date('2026-12-03T00:00:00Z'),
      csrfToken: 'tok',
      session: { email: 'a@b.c', organizations: [{ id: 'o1', name: '<Org>' }] },
    });
    expect(html).not.toContain('<img src=x');
    expect(html).not.toContain('"><b>');
    expect(html).toContain('&lt;Org&gt;');
    expect(messagePage('<t>', '<m>')).not.toMatch(/<t>|<m>/);
  });

  it('asks a signed-out visitor to log in or register, and a signed-in one to confirm', () => {
    const base = { actionBase: '/connect/t', partnerName: 'CRM', agencyId: 'a1', expiresAt: new Date(), csrfToken: 'tok' };
    const signedOut = linkPage(base);
    expect(signedOut).toContain('action="/connect/t/login"');
    expect(signedOut).toContain('action="/connect/t/register"');
    expect(signedOut).not.toContain('id="confirm"');
    const signedIn = linkPage({ ...base, session: { email: 'a@b.c', organizations: [{ id: 'o1', name: 'Org' }] } });
    expect(signedIn).toContain('action="/connect/t/confirm"');
    expect(signedIn).toContain('name="csrf" value="tok"');
    expect(signedIn).toContain('listings:write');
  });
});
