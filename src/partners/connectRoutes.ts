import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { parse as parseCookies, serialize as serializeCookie } from 'cookie';
import express, { Request, RequestHandler, Response, Router } from 'express';
import { z } from 'zod';
import type { AppDeps } from '../http/app';
import { toApiError } from '../http/errors';
import { refuseNulCharacters } from '../http/nulCharacters';
import { countInWindow } from '../http/rateLimit';
import { hashToken } from '../identity/apiKeySecrets';
import { PASSWORD_MAX_LENGTH, PASSWORD_MIN_LENGTH } from '../identity/passwords';
import { AccountError, createWebAccounts } from '../identity/webAccounts';
import { LinkState, UnusableLink, UsableLink, createConsentService } from './consent';
import { connectedPage, linkPage, messagePage } from './connectPages';

const SESSION_COOKIE = 'immoflow_session';
const CSRF_COOKIE = 'immoflow_csrf';

/** What each unusable link shows, and with which status. */
const UNUSABLE: Record<UnusableLink, { status: number; title: string; message: string }> = {
  tampered: { status: 404, title: 'Link not valid', message: 'This connect link is not valid. Copy the whole link from your CRM, or ask it for a new one.' },
  expired: { status: 410, title: 'Link expired', message: 'This connect link has expired. Start the connection again from your CRM to get a new link.' },
  used: { status: 410, title: 'Link already used', message: 'This connect link has been used already; each link works once. If the connection did not complete, start again from your CRM.' },
  superseded: { status: 410, title: 'Link replaced', message: 'Your CRM has issued a newer link for this connection. Use the newest link, or start again from your CRM.' },
  partner_disabled: { status: 403, title: 'Partner unavailable', message: 'This CRM partner can no longer connect agencies to Immoflow. Contact the CRM for help.' },
};

const email = z.email().max(320);
const loginSchema = z.object({ email, password: z.string().min(1).max(PASSWORD_MAX_LENGTH), csrf: z.string() });
const registerSchema = z.object({
  organization_name: z.string().trim().min(1, 'Enter your agency’s name.').max(200),
  email: z.email('Enter a valid e-mail address.').max(320),
  password: z.string().min(PASSWORD_MIN_LENGTH, `Choose a password of at least ${PASSWORD_MIN_LENGTH} characters.`).max(PASSWORD_MAX_LENGTH),
  csrf: z.string(),
});
const confirmSchema = z.object({ org_id: z.uuid(), csrf: z.string() });

/**
 * GET /connect/<token>: the page an agency opens from its CRM (reference 001 step 3). It logs in
 * or registers, then confirms; the consent owes the onboarding workflow its signal. Sessions are
 * httpOnly SameSite cookies; every form carries a CSRF token bound to a cookie (double submit,
 * HMAC-signed); the page cannot be framed and never leaks the link in a Referer.
 */
export function connectRouter(deps: AppDeps): Router {
  const { db, config } = deps;
  const consent = createConsentService(db, config);
  const accounts = createWebAccounts(db, { sessionTtlMs: config.WEB_SESSION_TTL });
  const csrfKey = Buffer.from(config.PARTNER_LINK_SIGNING_KEY as string, 'base64');
  const secureCookies = config.PUBLIC_BASE_URL.startsWith('https:');
  const csrfFor = (nonce: string) => createHmac('sha256', csrfKey).update(`csrf.${nonce}`).digest('base64url');
  const router = Router();

  const cookieOptions = (maxAgeSeconds: number) => ({ httpOnly: true, sameSite: 'lax' as const, secure: secureCookies, path: '/connect', maxAge: maxAgeSeconds });
  const cookiesOf = (req: Request) => parseCookies(req.get('cookie') ?? '');

  function send(res: Response, status: number, html: string): void {
    res.status(status).type('html').send(html);
  }

  /** The CSRF token for this browser's forms, setting its cookie when it has none. */
  function csrfToken(req: Request, res: Response): string {
    let nonce = cookiesOf(req)[CSRF_COOKIE];
    if (!nonce || !/^[A-Za-z0-9_-]{20,64}$/.test(nonce)) {
      nonce = randomBytes(24).toString('base64url');
      res.append('Set-Cookie', serializeCookie(CSRF_COOKIE, nonce, cookieOptions(24 * 3600)));
    }
    return csrfFor(nonce);
  }

  function csrfValid(req: Request, presented: unknown): boolean {
    const nonce = cookiesOf(req)[CSRF_COOKIE];
    if (!nonce || typeof presented !== 'string') return false;
    const expected = Buffer.from(csrfFor(nonce));
    const given = Buffer.from(presented);
    return expected.length === given.length && timingSafeEqual(expected, given);
  }

  async function renderLink(req: Request, res: Response, link: UsableLink, status = 200, extra: { error?: string; email?: string; organizationName?: string } = {}) {
    const user = await accounts.resolveSession(cookiesOf(req)[SESSION_COOKIE]);
    const session = user ? { email: user.email, organizations: await accounts.administeredOrganizations(user.userId) } : undefined;
    send(res, status, linkPage({ actionBase: `/connect/${encodeURIComponent(String(req.params.token))}`, partnerName: link.partnerName, agencyId: link.agencyId, expiresAt: link.expiresAt, csrfToken: csrfToken(req, res), session, ...extra }));
  }

  function renderUnusable(res: Response, state: UnusableLink): void {
    const page = UNUSABLE[state];
    send(res, page.status, messagePage(page.title, page.message));
  }

  /** Runs a page handler: a usable link and a valid CSRF token (on POST) first, HTML errors always. */
  function page(handler: (req: Request, res: Response, link: UsableLink) => Promise<void>): RequestHandler {
    return async (req, res) => {
      try {
        const link: LinkState = await consent.inspect(String(req.params.token));
        if (link.state !== 'usable') return renderUnusable(res, link.state);
        if (req.method === 'POST' && !csrfValid(req, req.body?.csrf)) {
          return send(res, 403, messagePage('Form expired', 'This form has expired or was not sent from this page. Go back, reload the page and try again.'));
        }
        await handler(req, res, link);
      } catch (error) {
        const apiError = toApiError(error);
        if (apiError.status >= 500) req.log.error({ err: error }, 'connect page failed');
        send(res, apiError.status, messagePage(apiError.status >= 500 ? 'Something went wrong' : 'Request not accepted', apiError.message));
      }
    };
  }

  /** Failed logins count per address and per e-mail: a spoofed address alone cannot guess a password. */
  async function loginBlocked(req: Request, emailAddress: string, hits: 0 | 1): Promise<boolean> {
    const limit = config.AUTH_FAILURES_PER_IP_PER_HOUR;
    const [byIp, byEmail] = await Promise.all([
      countInWindow(db, `auth-failures:ip:${req.ip ?? 'unknown'}`, limit, hits),
      // Hashed: the counter table is no place for people's addresses.
      countInWindow(db, `auth-failures:login:${hashToken(emailAddress.toLowerCase())}`, limit, hits),
    ]);
    return !byIp.allowed || !byEmail.allowed;
  }

  function startSession(res: Response, token: string): void {
    res.append('Set-Cookie', serializeCookie(SESSION_COOKIE, token, cookieOptions(Math.floor(config.WEB_SESSION_TTL / 1000))));
  }

  const backToLink = (req: Request, res: Response) => res.redirect(303, `/connect/${encodeURIComponent(String(req.params.token))}`);

  router.use('/connect', (_req, res, next) => {
    res.setHeader('Cache-Control', 'no-store');
    res.setHeader('Referrer-Policy', 'no-referrer');
    res.setHeader('X-Frame-Options', 'DENY');
    res.setHeader('Content-Security-Policy', "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'");
    next();
  });
  router.use('/connect', express.urlencoded({ extended: false, limit: '16kb', parameterLimit: 20 }), refuseNulCharacters());

  router.get('/connect/:token', page(async (req, res, link) => renderLink(req, res, link)));

  router.post(
    '/connect/:token/login',
    page(async (req, res, link) => {
      const input = loginSchema.safeParse(req.body);
      if (!input.success) return renderLink(req, res, link, 400, { error: 'Enter your e-mail address and password.' });
      if (await loginBlocked(req, input.data.email, 0)) {
        return renderLink(req, res.setHeader('Retry-After', '3600'), link, 429, { error: 'Too many failed attempts. Wait an hour, then try again.', email: input.data.email });
      }
      const userId = await accounts.login(input.data.email, input.data.password);
      if (!userId) {
        await loginBlocked(req, input.data.email, 1);
        return renderLink(req, res, link, 401, { error: 'The e-mail address or password is not correct.', email: input.data.email });
      }
      startSession(res, await accounts.createSession(userId));
      backToLink(req, res);
    }),
  );

  router.post(
    '/connect/:token/register',
    page(async (req, res, link) => {
      const input = registerSchema.safeParse(req.body);
      if (!input.success) {
        const error = input.error.issues.map((issue) => issue.message).join(' ');
        return renderLink(req, res, link, 400, { error, organizationName: String(req.body?.organization_name ?? '') });
      }
      try {
        const { userId } = await accounts.register({
          organizationName: input.data.organization_name,
          email: input.data.email,
          password: input.data.password,
          flags: ['LISTINGS_WRITE_API_ENABLED'],
        });
        startSession(res, await accounts.createSession(userId));
        backToLink(req, res);
      } catch (error) {
        if (!(error instanceof AccountError)) throw error;
        return renderLink(req, res, link, 409, { error: error.message, email: input.data.email });
      }
    }),
  );

  router.post(
    '/connect/:token/confirm',
    page(async (req, res, link) => {
      const user = await accounts.resolveSession(cookiesOf(req)[SESSION_COOKIE]);
      if (!user) return renderLink(req, res, link, 401, { error: 'Your session has ended. Log in again to connect.' });
      const input = confirmSchema.safeParse(req.body);
      if (!input.success) return renderLink(req, res, link, 400, { error: 'Choose the organisation to connect.' });
      const result = await consent.confirm(String(req.params.token), user.userId, input.data.org_id);
      if (result.state === 'not_admin') return renderLink(req, res, link, 403, { error: 'Only an owner or admin of that organisation can connect it.' });
      if (result.state !== 'usable') return renderUnusable(res, result.state);
      const org = await db('organizations').where({ id: input.data.org_id }).first('name');
      send(res, 200, connectedPage(link.partnerName, org?.name ?? ''));
    }),
  );

  router.post(
    '/connect/:token/logout',
    page(async (req, res) => {
      await accounts.endSession(cookiesOf(req)[SESSION_COOKIE]);
      res.append('Set-Cookie', serializeCookie(SESSION_COOKIE, '', cookieOptions(0)));
      backToLink(req, res);
    }),
  );

  return router;
}
