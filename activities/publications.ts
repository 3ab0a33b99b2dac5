import { Context } from '@temporalio/activity';
import type { BackfillInput, BackfillPage, DriftReport, PublicationInput, SyncOutcome, SyncRequest } from '../src/domain/publications';
import { createConnectionBackfill } from '../src/targets/backfill';
import { createDriftRepair } from '../src/targets/drift';
import { createPortalClient } from '../src/targets/portalClient';
import { createPublisher } from '../src/targets/publisher';
import { TargetError } from '../src/targets/targetRows';
import { createTargetTokens } from '../src/targets/tokens';
import { createSecretBox } from '../src/webhooks/secretCrypto';
import type { ActivityDeps } from './deps';

/** Renewed this long before the next scheduled refresh could, so no token lapses in between. */
const REFRESH_MARGIN_MS = 10 * 60_000;

export interface TokenRefreshReport {
  targetId: string;
  name: string;
  outcome: 'refreshed' | 'still_valid' | 'rate_limited' | 'unauthorized' | 'target_unavailable';
  expiresAt: string | null;
  message?: string;
}

/** The publication workflow's push, a connection's backfill, the token-refresh schedule's renewals and the drift sweep. */
export function createPublicationActivities({ db, storage, config }: ActivityDeps) {
  const portal = createPortalClient(config);
  const publisher = createPublisher({ db, storage, config, portal });
  const tokens = createTargetTokens(db, createSecretBox(config.WEBHOOK_SECRET_ENCRYPTION_KEY as string), portal);
  const drift = createDriftRepair(db, config, portal);
  const backfill = createConnectionBackfill({ db, config, publisher });

  return {
    syncPublication(input: PublicationInput, request: SyncRequest): Promise<SyncOutcome> {
      return publisher.sync(input, request);
    },

    /** One page of a connection's backfill; `holder` (the backfill's workflow id) holds its pushes' leases. */
    pushBackfillPage(input: BackfillInput, holder: string): Promise<BackfillPage> {
      const context = Context.current();
      return backfill.pushPage(input, holder, (done) => context.heartbeat({ after: input.after ?? null, done }));
    },

    /**
     * Renews every enabled target's x-crm-token that would expire before the next run. One
     * target's trouble is reported, not thrown: the others still get their tokens.
     */
    async refreshTargetTokens(): Promise<TokenRefreshReport[]> {
      const targets: { id: string; name: string; token_refreshed_at: Date | null }[] = await db('targets').whereNull('disabled_at').orderBy('created_at').select('id', 'name', 'token_refreshed_at');
      // All at once: one portal that does not answer must not hold up the others' renewals.
      return Promise.all(
        targets.map(async (target): Promise<TokenRefreshReport> => {
          try {
            await tokens.renew(target.id, { minValidityMs: config.TOKEN_REFRESH_INTERVAL + REFRESH_MARGIN_MS });
            const after = await db('targets').where({ id: target.id }).first('token_expires_at', 'token_refreshed_at');
            const refreshed = after.token_refreshed_at?.getTime() !== target.token_refreshed_at?.getTime();
            return { targetId: target.id, name: target.name, outcome: refreshed ? 'refreshed' : 'still_valid', expiresAt: after.token_expires_at?.toISOString() ?? null };
          } catch (error) {
            if (!(error instanceof TargetError) || error.code === 'not_found') throw error;
            return { targetId: target.id, name: target.name, outcome: error.code as TokenRefreshReport['outcome'], expiresAt: null, message: error.message };
          }
        }),
      );
    },

    repairTargetDrift(input: { repairId: string }): Promise<DriftReport[]> {
      return drift.sweepDue(input.repairId);
    },
  };
}

export type PublicationActivities = ReturnType<typeof createPublicationActivities>;
