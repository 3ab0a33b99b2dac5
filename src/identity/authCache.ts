import { Client } from 'pg';
import type { Logger } from 'pino';
import type { AuthContext } from './authContext';

/** Announced by triggers on api_keys, organizations and users (migration 20261130000900). */
export const IDENTITY_CHANGED_CHANNEL = 'immoflow_identity_changed';

interface CachedKey {
  auth: AuthContext;
  cachedAt: number;
  /** When this process last recorded the key's use (`api_keys.last_used_at`). */
  lastUseRecordedAt: number;
}

/**
 * Resolved API keys, per API replica, by key hash, so that a request does not pay a round trip to
 * learn who is calling. Safe because it is told of every change: the identity tables' triggers
 * notify IDENTITY_CHANGED_CHANNEL and `invalidateOnIdentityChanges` empties the cache on each
 * notification. While that listener is not connected the cache holds nothing, so a lost
 * notification cannot leave a revoked key working; `ttlMs` bounds an entry's age regardless.
 * Only known keys are cached: an unknown key costs its caller a lookup every time.
 */
export interface AuthCache {
  lookup(keyHash: string, nowMs: number): CachedKey | undefined;
  /**
   * Bumped by every `clear`. A lookup reads it before going to the database and passes it to
   * `remember`, which drops the result if a change was announced meanwhile: the row it read may
   * predate that change.
   */
  readonly generation: number;
  remember(keyHash: string, auth: AuthContext, nowMs: number, lastUseRecordedAt: number, generation: number): void;
  /** Forgets everything; with `enabled`, also whether entries may be kept from now on. */
  clear(enabled?: boolean): void;
  readonly size: number;
}

export function createAuthCache(ttlMs: number, maxEntries = 10_000): AuthCache {
  const entries = new Map<string, CachedKey>();
  // Nothing is cached until the change listener is connected.
  let enabled = false;
  let generation = 0;
  return {
    lookup(keyHash, nowMs) {
      const entry = entries.get(keyHash);
      if (entry && nowMs - entry.cachedAt < ttlMs) return entry;
      if (entry) entries.delete(keyHash);
      return undefined;
    },
    get generation() {
      return generation;
    },
    remember(keyHash, auth, nowMs, lastUseRecordedAt, lookupGeneration) {
      if (!enabled || ttlMs <= 0 || lookupGeneration !== generation) return;
      // Oldest first: Map iteration follows insertion order.
      if (entries.size >= maxEntries) entries.delete(entries.keys().next().value as string);
      entries.set(keyHash, { auth, cachedAt: nowMs, lastUseRecordedAt });
    },
    clear(nextEnabled) {
      generation += 1;
      entries.clear();
      if (nextEnabled !== undefined) enabled = nextEnabled;
    },
    get size() {
      return entries.size;
    },
  };
}

export interface IdentityChangeListener {
  close(): Promise<void>;
}

/**
 * Keeps one dedicated connection LISTENing on IDENTITY_CHANGED_CHANNEL and empties `cache` on
 * every notification. The cache is enabled only while the connection is up (a notification sent
 * while we were away is lost, so reconnecting starts from an empty cache); after a failure it
 * reconnects every `retryMs`. Resolves once the first connection is listening, or after its first failure.
 */
export function invalidateOnIdentityChanges(databaseUrl: string, cache: AuthCache, logger: Logger, retryMs = 1000): Promise<IdentityChangeListener> {
  let closed = false;
  let client: Client | undefined;
  let retry: NodeJS.Timeout | undefined;

  const connect = async (): Promise<void> => {
    const next = new Client({ connectionString: databaseUrl });
    let gone = false;
    const lost = (error?: Error) => {
      if (gone) return;
      gone = true;
      cache.clear(false);
      if (client === next) client = undefined;
      next.removeAllListeners();
      next.on('error', () => undefined);
      void next.end().catch(() => undefined);
      if (closed) return;
      logger.warn({ err: error }, 'identity change listener lost its connection; API key cache off until it reconnects');
      retry = setTimeout(() => void connect(), retryMs);
    };
    try {
      next.on('notification', () => cache.clear());
      next.on('error', lost);
      next.on('end', () => lost());
      await next.connect();
      await next.query(`listen ${IDENTITY_CHANGED_CHANNEL}`);
      if (closed) {
        await next.end();
        return;
      }
      client = next;
      cache.clear(true);
    } catch (error) {
      lost(error as Error);
    }
  };

  return connect().then(() => ({
    async close() {
      closed = true;
      clearTimeout(retry);
      cache.clear(false);
      const current = client;
      client = undefined;
      current?.removeAllListeners();
      await current?.end().catch(() => undefined);
    },
  }));
}
