import type { Db } from '../db/knex';
import { preparedQuery } from '../db/sql';
import { ApiKeyKind, ApiKeyMode, displayHint, parseApiKey } from '../domain/apiKeys';
import { FeatureFlag, FeatureFlags } from '../domain/featureFlags';
import { Plan } from '../domain/plans';
import { MembershipRole } from '../domain/roles';
import { Scope, normalizeScopes } from '../domain/scopes';
import type { AuthCache } from './authCache';
import type { AuthContext } from './authContext';
import { generateApiKey, hashApiKey } from './apiKeySecrets';

export interface OrganizationRow {
  id: string;
  name: string;
  plan: Plan;
  active_listing_cap_override: number | null;
  feature_flags: FeatureFlags;
  developer_contact_email: string | null;
  created_at: Date;
  updated_at: Date;
}

interface AuthenticatedKeyRow {
  key_id: string;
  kind: AuthContext['kind'];
  mode: AuthContext['mode'];
  scopes: string[];
  created_by: string | null;
  created_by_email: string | null;
  last_used_at: Date | null;
  org_id: string;
  org_name: string;
  plan: AuthContext['org']['plan'];
  active_listing_cap_override: number | null;
  feature_flags: AuthContext['org']['featureFlags'];
  developer_contact_email: string | null;
}

export interface ApiKeyRecord {
  id: string;
  org_id: string;
  kind: ApiKeyKind;
  mode: ApiKeyMode;
  name: string | null;
  key_hint: string;
  scopes: string[];
  created_by: string | null;
  created_at: Date;
  last_used_at: Date | null;
  revoked_at: Date | null;
}

export class IdentityError extends Error {}

// One write per key per minute is enough for "last used" and keeps authentication a read.
const LAST_USED_RESOLUTION_MS = 60_000;

const API_KEY_COLUMNS = ['id', 'org_id', 'kind', 'mode', 'name', 'key_hint', 'scopes', 'created_by', 'created_at', 'last_used_at', 'revoked_at'];

/** Organisations, users, memberships and API keys: the identity model of DESIGN §4. */
export function createIdentityService(db: Db, relaxedDb: Db = db, options: { authCache?: AuthCache } = {}) {
  const { authCache } = options;
  const recordKeyUse = (keyId: string) => relaxedDb('api_keys').where({ id: keyId }).update({ last_used_at: relaxedDb.fn.now() });

  async function upsertUser(trx: Db, email: string): Promise<string> {
    const normalized = email.trim();
    const existing = await trx('users').whereRaw('lower(email) = lower(?)', [normalized]).first('id');
    if (existing) return existing.id as string;
    const [row] = await trx('users').insert({ email: normalized }).returning('id');
    return row.id as string;
  }

  return {
    async createOrganization(input: {
      name: string;
      plan: Plan;
      flags?: FeatureFlag[];
      ownerEmail: string;
      developerContactEmail?: string;
      activeListingCapOverride?: number | null;
    }): Promise<{ organization: OrganizationRow; ownerUserId: string }> {
      return db.transaction(async (trx) => {
        const featureFlags = Object.fromEntries((input.flags ?? []).map((flag) => [flag, true]));
        const [organization] = await trx('organizations')
          .insert({
            name: input.name,
            plan: input.plan,
            feature_flags: featureFlags,
            developer_contact_email: input.developerContactEmail ?? input.ownerEmail,
            active_listing_cap_override: input.activeListingCapOverride ?? null,
          })
          .returning('*');
        const ownerUserId = await upsertUser(trx, input.ownerEmail);
        await trx('memberships').insert({ org_id: organization.id, user_id: ownerUserId, role: 'owner' });
        return { organization, ownerUserId };
      });
    },

    async getOrganization(orgId: string): Promise<OrganizationRow | undefined> {
      return db('organizations').where({ id: orgId }).first();
    },

    async setFeatureFlag(orgId: string, flag: FeatureFlag, enabled: boolean): Promise<FeatureFlags> {
      const [row] = await db('organizations')
        .where({ id: orgId })
        .update({
          feature_flags: db.raw('feature_flags || ?::jsonb', [JSON.stringify({ [flag]: enabled })]),
          updated_at: db.fn.now(),
        })
        .returning('feature_flags');
      if (!row) throw new IdentityError(`organization ${orgId} not found`);
      return row.feature_flags;
    },

    /** Adds (or re-roles) a member; the user is created when the address is new. */
    async addMember(orgId: string, email: string, role: MembershipRole): Promise<{ userId: string }> {
      return db.transaction(async (trx) => {
        const org = await trx('organizations').where({ id: orgId }).first('id');
        if (!org) throw new IdentityError(`organization ${orgId} not found`);
        const userId = await upsertUser(trx, email);
        await trx('memberships').insert({ org_id: orgId, user_id: userId, role }).onConflict(['org_id', 'user_id']).merge({ role });
        return { userId };
      });
    },

    /** Creates a key and returns it in full exactly once; only its hash is stored. */
    async createApiKey(input: {
      orgId: string;
      kind: ApiKeyKind;
      mode: ApiKeyMode;
      scopes: Scope[];
      name?: string;
      createdBy?: string | null;
    }): Promise<{ key: string; record: ApiKeyRecord }> {
      const org = await db('organizations').where({ id: input.orgId }).first('id');
      if (!org) throw new IdentityError(`organization ${input.orgId} not found`);
      let createdBy = input.createdBy ?? null;
      if (!createdBy) {
        // Listings created with this key are owned by its creator; default to the org's owner.
        const owner = await db('memberships').where({ org_id: input.orgId, role: 'owner' }).orderBy('created_at').first('user_id');
        createdBy = owner?.user_id ?? null;
      }
      const key = generateApiKey(input.kind, input.mode);
      const [record] = await db('api_keys')
        .insert({
          org_id: input.orgId,
          kind: input.kind,
          mode: input.mode,
          name: input.name ?? null,
          key_hash: hashApiKey(key),
          key_hint: displayHint(key),
          scopes: normalizeScopes(input.scopes),
          created_by: createdBy,
        })
        .returning(API_KEY_COLUMNS);
      return { key, record };
    },

    async revokeApiKey(keyId: string): Promise<ApiKeyRecord | undefined> {
      const [record] = await db('api_keys')
        .where({ id: keyId })
        .update({ revoked_at: db.raw('coalesce(revoked_at, now())') })
        .returning(API_KEY_COLUMNS);
      return record;
    },

    async listApiKeys(orgId: string): Promise<ApiKeyRecord[]> {
      return db('api_keys').where({ org_id: orgId }).orderBy('created_at', 'desc').select(API_KEY_COLUMNS);
    },

    /**
     * Resolves a presented key to its context, or null when unknown, malformed or revoked. With
     * an `authCache` (the API's), a key resolved moments ago costs no round trip (see AuthCache).
     */
    async authenticate(presentedKey: string): Promise<AuthContext | null> {
      if (!parseApiKey(presentedKey)) return null;
      const keyHash = hashApiKey(presentedKey);
      const now = Date.now();
      const cached = authCache?.lookup(keyHash, now);
      if (cached) {
        if (now - cached.lastUseRecordedAt > LAST_USED_RESOLUTION_MS) {
          cached.lastUseRecordedAt = now;
          await recordKeyUse(cached.auth.keyId);
        }
        return cached.auth;
      }
      const generation = authCache?.generation ?? 0;
      const { rows } = await preparedQuery<AuthenticatedKeyRow>(
        relaxedDb,
        `select k.id as key_id, k.kind, k.mode, k.scopes, k.created_by, u.email as created_by_email,
                k.last_used_at, o.id as org_id, o.name as org_name, o.plan,
                o.active_listing_cap_override, o.feature_flags, o.developer_contact_email
         from api_keys k join organizations o on o.id = k.org_id left join users u on u.id = k.created_by
         where k.key_hash = ? and k.revoked_at is null`,
        [keyHash],
      );
      const row = rows[0];
      if (!row) return null;
      let lastUseRecordedAt = row.last_used_at?.getTime() ?? 0;
      if (now - lastUseRecordedAt > LAST_USED_RESOLUTION_MS) {
        lastUseRecordedAt = now;
        await recordKeyUse(row.key_id);
      }
      const auth: AuthContext = {
        keyId: row.key_id,
        orgId: row.org_id,
        kind: row.kind,
        mode: row.mode,
        scopes: row.scopes,
        createdBy: row.created_by,
        createdByEmail: row.created_by_email,
        org: {
          id: row.org_id,
          name: row.org_name,
          plan: row.plan,
          activeListingCapOverride: row.active_listing_cap_override,
          featureFlags: row.feature_flags,
          developerContactEmail: row.developer_contact_email,
        },
      };
      authCache?.remember(keyHash, auth, now, lastUseRecordedAt, generation);
      return auth;
    },
  };
}

export type IdentityService = ReturnType<typeof createIdentityService>;
