import type { PublicationFailureCode } from '../domain/publications';

export interface TargetRow {
  id: string;
  name: string;
  base_url: string;
  client_id: string;
  client_secret_ciphertext: string;
  webhook_secret_ciphertext: string;
  token_ciphertext: string | null;
  token_expires_at: Date | null;
  token_refreshed_at: Date | null;
  token_refreshes: number;
  oauth_blocked_until: Date | null;
  push_paused_until: Date | null;
  disabled_at: Date | null;
  created_at: Date;
  updated_at: Date;
}

export interface TargetConnectionRow {
  id: string;
  target_id: string;
  org_id: string;
  status: 'pending' | 'connected' | 'disconnected';
  connect_url: string | null;
  connect_url_expires_at: Date | null;
  api_key_ciphertext: string | null;
  connected_at: Date | null;
  disconnected_at: Date | null;
  last_swept_at: Date | null;
  created_at: Date;
  updated_at: Date;
}

export interface PublicationRow {
  listing_id: string;
  target_id: string;
  org_id: string;
  state: 'pending' | 'published' | 'failed' | 'deleted';
  remote_id: string | null;
  pushed_revision: number | null;
  pushed_images: Record<string, string>;
  published_at: Date | null;
  failure_code: PublicationFailureCode | null;
  failure_message: string | null;
  attempts: number;
  created_at: Date;
  updated_at: Date;
}

/** A target refused or could not serve a call; `code` is a publication failure code or not_found. */
export class TargetError extends Error {
  override name = 'TargetError';
  constructor(
    readonly code: PublicationFailureCode | 'not_found',
    message: string,
    readonly retryAfterMs?: number,
  ) {
    super(message);
  }
}
