import type { Db } from '../db/knex';
import type { FeatureFlag } from '../domain/featureFlags';
import { hashToken, randomBase62 } from './apiKeySecrets';
import { decoyPasswordHash, hashPassword, verifyPassword } from './passwords';
import { createIdentityService } from './service';

const UNIQUE_VIOLATION = '23505';

export class AccountError extends Error {
  constructor(
    message: string,
    readonly reason: 'email_taken',
  ) {
    super(message);
  }
}

export interface SessionUser {
  userId: string;
  email: string;
}

export interface AdministeredOrganization {
  id: string;
  name: string;
}

/**
 * People who sign in on Immoflow's own pages (today: the connect page an agency opens from its
 * CRM). Passwords are scrypt hashes; sessions are random tokens kept as SHA-256 hashes, so a
 * database dump yields neither.
 */
export function createWebAccounts(db: Db, options: { sessionTtlMs: number }) {
  return {
    /** A new organisation (plan free) with this person as its owner. */
    async register(input: { organizationName: string; email: string; password: string; flags: FeatureFlag[] }): Promise<{ userId: string; orgId: string }> {
      const passwordHash = await hashPassword(input.password);
      const taken = () => new AccountError('An account with this e-mail address exists already; log in instead.', 'email_taken');
      try {
        return await db.transaction(async (trx) => {
          if (await trx('users').whereRaw('lower(email) = lower(?)', [input.email]).first('id')) throw taken();
          const { organization, ownerUserId } = await createIdentityService(trx).createOrganization({
            name: input.organizationName,
            plan: 'free',
            flags: input.flags,
            ownerEmail: input.email,
          });
          await trx('users').where({ id: ownerUserId }).update({ password_hash: passwordHash });
          return { userId: ownerUserId, orgId: organization.id };
        });
      } catch (error) {
        // Two registrations of one address at once: the unique index decides, and the loser is told so.
        if ((error as { code?: string }).code === UNIQUE_VIOLATION) throw taken();
        throw error;
      }
    },

    /** The user's id, or null; an unknown address costs as much as a wrong password. */
    async login(email: string, password: string): Promise<string | null> {
      const user = await db('users').whereRaw('lower(email) = lower(?)', [email]).first('id', 'password_hash');
      const matches = await verifyPassword(password, user?.password_hash ?? (await decoyPasswordHash()));
      return user?.password_hash && matches ? (user.id as string) : null;
    },

    async createSession(userId: string): Promise<string> {
      const token = randomBase62(43);
      await db('web_sessions').insert({ token_hash: hashToken(token), user_id: userId, expires_at: new Date(Date.now() + options.sessionTtlMs) });
      return token;
    },

    async resolveSession(token: string | undefined): Promise<SessionUser | null> {
      if (!token) return null;
      const row = await db('web_sessions as s')
        .join('users as u', 'u.id', 's.user_id')
        .where('s.token_hash', hashToken(token))
        .where('s.expires_at', '>', db.fn.now())
        .first('u.id as user_id', 'u.email');
      return row ? { userId: row.user_id, email: row.email } : null;
    },

    async endSession(token: string | undefined): Promise<void> {
      if (token) await db('web_sessions').where({ token_hash: hashToken(token) }).delete();
    },

    /** Organisations this user may connect to a partner: those they own or administer. */
    async administeredOrganizations(userId: string): Promise<AdministeredOrganization[]> {
      return db('memberships as m')
        .join('organizations as o', 'o.id', 'm.org_id')
        .where('m.user_id', userId)
        .whereIn('m.role', ['owner', 'admin'])
        .orderBy('o.created_at')
        .select('o.id', 'o.name');
    },
  };
}

export type WebAccounts = ReturnType<typeof createWebAccounts>;
