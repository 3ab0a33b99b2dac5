import { Counter, Registry } from 'prom-client';

function counter(registry: Registry, name: string, help: string): Counter {
  return (registry.getSingleMetric(name) as Counter | undefined) ?? new Counter({ name, help, registers: [registry] });
}

/**
 * Partner onboarding's counters, registered at once (so /metrics shows them at 0 before the first
 * event) and once per registry (the API's routers and the worker's activities each ask for them).
 */
export function partnerMetrics(registry: Registry) {
  return {
    tokensIssued: counter(registry, 'immoflow_partner_tokens_issued_total', 'x-crm-tokens issued by POST /crm/oauth'),
    linksCreated: counter(registry, 'immoflow_partner_links_created_total', 'Connect links created by POST /crm/integrate'),
    connectionsCompleted: counter(registry, 'immoflow_partner_connections_completed_total', "Agency keys the partner's webhook acknowledged with 200"),
    deliveriesFailed: counter(registry, 'immoflow_partner_key_deliveries_failed_total', "Agency key deliveries that failed every attempt (the partner's developer is e-mailed)"),
  };
}
