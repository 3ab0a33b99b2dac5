/**
 * The connect page's HTML, rendered on the server: no script, one small style sheet, every
 * interpolated value escaped. Forms post back to the same link.
 */
import type { AdministeredOrganization } from '../identity/webAccounts';

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[char] as string);
}

const STYLE = `body{font:16px/1.5 system-ui,sans-serif;margin:0;background:#f5f6f8;color:#1b1f24}
main{max-width:560px;margin:40px auto;background:#fff;border:1px solid #dde1e6;border-radius:10px;padding:28px 32px}
h1{font-size:22px;margin:0 0 12px}h2{font-size:17px;margin:24px 0 8px}label{display:block;margin:10px 0 4px;font-weight:600}
input,select{width:100%;box-sizing:border-box;padding:8px 10px;border:1px solid #b9c0c8;border-radius:6px;font:inherit}
button{margin-top:14px;padding:9px 18px;border:0;border-radius:6px;background:#1f6feb;color:#fff;font:inherit;font-weight:600;cursor:pointer}
button.secondary{background:#e7eaee;color:#1b1f24}.error{background:#fdecec;border:1px solid #f3b4b4;border-radius:6px;padding:8px 12px}
.muted{color:#57606a;font-size:14px}ul{padding-left:20px}.columns{display:grid;grid-template-columns:1fr 1fr;gap:24px}
@media (max-width:600px){.columns{grid-template-columns:1fr}}`;

function layout(title: string, body: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)} · Immoflow</title><style>${STYLE}</style></head>
<body><main>${body}</main></body></html>`;
}

export interface LinkPageInput {
  actionBase: string;
  partnerName: string;
  agencyId: string;
  expiresAt: Date;
  csrfToken: string;
  session?: { email: string; organizations: AdministeredOrganization[] };
  error?: string;
  /** Values to keep in the forms after a failed attempt (never the password). */
  email?: string;
  organizationName?: string;
}

const PERMISSIONS = `<ul>
<li>create, update, archive and delete your listings, and read them (<code>listings:read</code>, <code>listings:write</code>, <code>listings:delete</code>)</li>
<li>read your event log, such as when a listing was published (<code>events:read</code>)</li></ul>
<p class="muted">It receives an API key for your organisation. You can revoke it at any time (GET and DELETE /api/v1/partners/connections).</p>`;

export function linkPage(input: LinkPageInput): string {
  const partner = escapeHtml(input.partnerName);
  const csrf = `<input type="hidden" name="csrf" value="${escapeHtml(input.csrfToken)}">`;
  const error = input.error ? `<p class="error" role="alert">${escapeHtml(input.error)}</p>` : '';
  const intro = `<h1>Connect ${partner} to Immoflow</h1>
<p><strong>${partner}</strong> asks to push listings to Immoflow for your agency (their reference: <code>${escapeHtml(input.agencyId)}</code>). It will be allowed to:</p>
${PERMISSIONS}${error}`;

  if (input.session) {
    const { organizations, email } = input.session;
    const choose =
      organizations.length === 0
        ? `<p class="error">You (${escapeHtml(email)}) own or administer no organisation. Log in with another account, or register a new agency.</p>`
        : `<form method="post" action="${input.actionBase}/confirm">${csrf}
<label for="org">Organisation</label><select id="org" name="org_id">${organizations
            .map((org) => `<option value="${escapeHtml(org.id)}">${escapeHtml(org.name)}</option>`)
            .join('')}</select>
<button type="submit" id="confirm">Allow ${partner} to connect</button></form>`;
    return layout(`Connect ${input.partnerName}`, `${intro}
<p>Signed in as <strong>${escapeHtml(email)}</strong>.</p>${choose}
<form method="post" action="${input.actionBase}/logout">${csrf}<button type="submit" class="secondary" id="logout">Use another account</button></form>
<p class="muted">This link expires at ${escapeHtml(input.expiresAt.toISOString())} and works once.</p>`);
  }

  return layout(`Connect ${input.partnerName}`, `${intro}
<div class="columns">
<form method="post" action="${input.actionBase}/login"><h2>Log in</h2>${csrf}
<label for="login-email">E-mail</label><input id="login-email" name="email" type="email" autocomplete="username" required value="${escapeHtml(input.email ?? '')}">
<label for="login-password">Password</label><input id="login-password" name="password" type="password" autocomplete="current-password" required>
<button type="submit" id="login">Log in</button></form>
<form method="post" action="${input.actionBase}/register"><h2>New to Immoflow?</h2>${csrf}
<label for="register-org">Agency name</label><input id="register-org" name="organization_name" required maxlength="200" value="${escapeHtml(input.organizationName ?? '')}">
<label for="register-email">E-mail</label><input id="register-email" name="email" type="email" autocomplete="email" required>
<label for="register-password">Password (at least 10 characters)</label><input id="register-password" name="password" type="password" autocomplete="new-password" required minlength="10">
<button type="submit" id="register">Register and continue</button></form>
</div>
<p class="muted">This link expires at ${escapeHtml(input.expiresAt.toISOString())} and works once.</p>`);
}

export function connectedPage(partnerName: string, organizationName: string): string {
  const partner = escapeHtml(partnerName);
  return layout('Connected', `<h1>Connected</h1>
<p><strong>${escapeHtml(organizationName)}</strong> is now connected to <strong>${partner}</strong>. ${partner} receives its API key in a moment; you can return to ${partner}.</p>`);
}

export function messagePage(title: string, message: string): string {
  return layout(title, `<h1>${escapeHtml(title)}</h1><p>${escapeHtml(message)}</p>`);
}
