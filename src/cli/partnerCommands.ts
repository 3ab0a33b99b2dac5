import { parseArgs } from 'node:util';
import { z } from 'zod';
import { createConnectionService } from '../partners/connections';
import { PARTNER_PUBLIC_COLUMNS, PartnerRow, createPartnerService } from '../partners/service';
import { CliDeps, CliOutput, UsageError, emit, requireOption } from './io';

const uuid = z.uuid();

function requireUuid(value: string | undefined, what: string): string {
  if (!value || !uuid.safeParse(value).success) throw new UsageError(`${what} must be a UUID (got ${JSON.stringify(value ?? '')})`);
  return value;
}

function publicView(partner: PartnerRow) {
  return Object.fromEntries(PARTNER_PUBLIC_COLUMNS.map((column) => [column, partner[column]]));
}

function hookNote(deps: CliDeps): string {
  return `Give the partner: base URL ${deps.config.PUBLIC_BASE_URL}, the client id and the client secret (docs/PARTNERS.md).`;
}

export async function partnerCreate(args: string[], deps: CliDeps, out: CliOutput): Promise<void> {
  const { values } = parseArgs({ args, options: { name: { type: 'string' }, 'webhook-url': { type: 'string' }, 'developer-email': { type: 'string' } } });
  const name = requireOption(values, 'name');
  const webhookUrl = requireOption(values, 'webhook-url');
  const developerEmail = requireOption(values, 'developer-email');
  if (!z.email().safeParse(developerEmail).success) throw new UsageError(`--developer-email is not an e-mail address: ${developerEmail}`);
  const { partner, clientSecret, webhookSecret } = await createPartnerService(deps.db, deps.config).create({ name, webhookUrl, developerEmail });
  emit(
    out,
    { ...publicView(partner), client_secret: clientSecret, webhook_secret: webhookSecret },
    [
      `Created partner ${partner.name} (${partner.id}).`,
      `  x-crm-client-id:     ${partner.client_id}`,
      `  x-crm-client-secret: ${clientSecret}`,
      `  webhook secret:      ${webhookSecret}  (verifies X-Webhook-Signature on key deliveries)`,
      'The secrets are shown only now; Immoflow keeps a hash of the client secret and the webhook secret encrypted.',
      hookNote(deps),
    ].join('\n'),
  );
}

export async function partnerList(args: string[], deps: CliDeps, out: CliOutput): Promise<void> {
  // No arguments: a stray option or id is a usage error (exit 2), not silently ignored.
  parseArgs({ args, options: {} });
  const partners = await createPartnerService(deps.db, deps.config).list();
  const lines = partners.map((p) => `${p.id}  ${p.client_id}  ${p.disabled_at ? 'disabled' : 'active  '}  ${p.name}  ${p.webhook_url}  ${p.developer_email}`);
  emit(out, partners, lines.length ? lines.join('\n') : 'No partners yet: immoflow partner create --name N --webhook-url URL --developer-email E');
}

export async function partnerRotateSecret(args: string[], deps: CliDeps, out: CliOutput): Promise<void> {
  const id = requireUuid(args[0], 'ID');
  const { partner, clientSecret } = await createPartnerService(deps.db, deps.config).rotateSecret(id);
  emit(
    out,
    { ...publicView(partner), client_secret: clientSecret },
    `New x-crm-client-secret for ${partner.name}: ${clientSecret}\nThe old secret and every x-crm-token issued with it no longer work.`,
  );
}

export async function partnerDisable(args: string[], deps: CliDeps, out: CliOutput): Promise<void> {
  const id = requireUuid(args[0], 'ID');
  const partner = await createPartnerService(deps.db, deps.config).disable(id);
  emit(out, publicView(partner), `Disabled partner ${partner.name}: its tokens no longer work and no further keys are sent to it.`);
}

export async function partnerSetWebhookUrl(args: string[], deps: CliDeps, out: CliOutput): Promise<void> {
  const { values, positionals } = parseArgs({ args, allowPositionals: true, options: { 'webhook-url': { type: 'string' } } });
  if (positionals.length !== 1) throw new UsageError('usage: immoflow partner set-webhook-url PARTNER_ID --webhook-url URL');
  // An ill-formed id is a usage error (exit 2), refused before Postgres sees it.
  if (!uuid.safeParse(positionals[0]).success) throw new UsageError(`PARTNER_ID must be a UUID (got ${JSON.stringify(positionals[0])})`);
  const webhookUrl = requireOption(values, 'webhook-url');
  const partner = await createPartnerService(deps.db, deps.config).updateWebhookUrl(positionals[0], webhookUrl);
  emit(
    out,
    publicView(partner),
    `Webhook URL of partner ${partner.name} (${partner.id}) is now ${partner.webhook_url}.\nIts tokens stay valid; the next key delivery (and partner redeliver) goes to the new URL.`,
  );
}

export async function partnerRedeliver(args: string[], deps: CliDeps, out: CliOutput): Promise<void> {
  const id = requireUuid(args[0], 'CONNECTION_ID');
  const connection = await createConnectionService(deps.db, deps.config).redeliver(id);
  emit(
    out,
    { connection_id: connection.id, partner_id: connection.partner_id, agency_id: connection.agency_id, status: 'redelivery_requested' },
    `Re-sending the agency key of connection ${connection.id} (agency ${connection.agency_id}) to ${connection.partner_name}; see the workflow partner-onboarding:${connection.partner_id}:${connection.agency_id}.`,
  );
}
