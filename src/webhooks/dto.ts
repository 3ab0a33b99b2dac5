export interface WebhookRow {
  id: string;
  org_id: string;
  url: string;
  events: string[];
  description: string | null;
  active: boolean;
  disabled_reason: string | null;
  secret_ciphertext: string;
  previous_secret_ciphertext: string | null;
  previous_secret_expires_at: Date | null;
  consecutive_failures: number;
  /** Failed attempts since the last success, across deliveries: the circuit's count. */
  failed_attempts_in_a_row: number;
  /** When the first of them failed. */
  failing_since: Date | null;
  /** While the circuit is open, the one delivery that goes on attempting. */
  probe_delivery_id: string | null;
  created_at: Date;
  updated_at: Date;
  deleted_at: Date | null;
}

export interface DeliveryRow {
  id: string;
  org_id: string;
  webhook_id: string;
  event_id: string;
  event_name: string;
  envelope: Record<string, unknown>;
  status: 'pending' | 'succeeded' | 'failed';
  attempt_count: number;
  next_attempt_at: Date | null;
  last_status_code: number | null;
  redelivery_of: string | null;
  created_at: Date;
  completed_at: Date | null;
  /** Which activity makes the retries (`<runId>:<activityId>`), and its attempt counter at its last recorded try. */
  retry_activity: string | null;
  retry_activity_tries: number;
  /** Set while the delivery waits behind its subscription's open circuit. */
  parked_at: Date | null;
  /** How many times a closing circuit released it: the start key of each release's signal. */
  resumes: number;
}

export interface AttemptRow {
  attempt_number: number;
  status_code: number | null;
  duration_ms: number;
  response_body: string | null;
  error: string | null;
  attempted_at: Date;
}

const iso = (date: Date | null) => date?.toISOString() ?? null;

/** Never carries the secret: it is returned once, by create and rotate-secret. */
export function toWebhookDto(row: WebhookRow) {
  return {
    id: row.id,
    url: row.url,
    events: row.events,
    description: row.description,
    active: row.active,
    disabled_reason: row.disabled_reason,
    consecutive_failures: row.consecutive_failures,
    created_at: row.created_at.toISOString(),
    updated_at: row.updated_at.toISOString(),
  };
}

/** The list view omits payloads and response bodies (they may hold third-party data). */
export function toDeliverySummaryDto(row: DeliveryRow) {
  return {
    id: row.id,
    webhook_id: row.webhook_id,
    event_id: row.event_id,
    event_name: row.event_name,
    status: row.status,
    attempt_count: row.attempt_count,
    last_status_code: row.last_status_code,
    next_attempt_at: iso(row.next_attempt_at),
    redelivery_of: row.redelivery_of,
    created_at: row.created_at.toISOString(),
    completed_at: iso(row.completed_at),
  };
}

export function toDeliveryDetailDto(row: DeliveryRow, attempts: AttemptRow[]) {
  return {
    ...toDeliverySummaryDto(row),
    payload: row.envelope,
    attempts: attempts.map((attempt) => ({
      attempt_number: attempt.attempt_number,
      status_code: attempt.status_code,
      duration_ms: attempt.duration_ms,
      error: attempt.error,
      response_body: attempt.response_body,
      attempted_at: attempt.attempted_at.toISOString(),
    })),
  };
}
