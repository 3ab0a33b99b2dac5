import { parseArgs } from 'node:util';
import { z } from 'zod';
import { TargetSummary, createTargetService } from '../targets/service';
import { CliDeps, CliOutput, UsageError, emit, requireOption } from './io';

const uuid = z.uuid();

/** A missing or ill-formed id is a usage error (exit 2), refused before Postgres sees it. */
function requireTargetId(value: string | undefined): string {
  if (!value) throw new UsageError('TARGET_ID is required');
  if (!uuid.safeParse(value).success) throw new UsageError(`TARGET_ID must be a UUID (got ${JSON.stringify(value)})`);
  return value;
}

function iso(value: Date | string | null): string | null {
  return value === null ? null : new Date(value).toISOString();
}

function tokenState(target: TargetSummary): string {
  if (!target.token_expires_at) return 'no token yet';
  const refreshed = iso(target.token_refreshed_at) ?? 'never';
  return `token expires ${iso(target.token_expires_at)}, refreshed ${refreshed}`;
}

export async function targetCreate(args: string[], deps: CliDeps, out: CliOutput): Promise<void> {
  const { values } = parseArgs({
    args,
    options: { name: { type: 'string' }, 'base-url': { type: 'string' }, 'client-id': { type: 'string' }, 'client-secret': { type: 'string' }, 'webhook-secret': { type: 'string' } },
  });
  const { target, partnerHookUrl } = await createTargetService(deps.db, deps.config).create({
    name: requireOption(values, 'name'),
    baseUrl: requireOption(values, 'base-url'),
    clientId: requireOption(values, 'client-id'),
    clientSecret: requireOption(values, 'client-secret'),
    webhookSecret: requireOption(values, 'webhook-secret'),
  });
  emit(
    out,
    { target, partner_hook_url: partnerHookUrl },
    [
      `Created target ${target.name} (${target.id}).`,
      `  base URL:  ${target.base_url}`,
      `  client id: ${target.client_id}`,
      '',
      `  Partner hook URL: ${partnerHookUrl}`,
      '',
      'Give the portal this URL as Immoflow\'s webhook_url (reference 001, "What you must provide"): the portal POSTs each agency\'s key there.',
      'The client secret and the webhook secret are stored encrypted and are not shown again.',
    ].join('\n'),
  );
}

export async function targetList(args: string[], deps: CliDeps, out: CliOutput): Promise<void> {
  // No arguments: a stray option or id is a usage error (exit 2), not silently ignored.
  parseArgs({ args, options: {} });
  const targets = await createTargetService(deps.db, deps.config).list();
  const lines = targets.map((t) => `${t.id}  ${t.disabled_at ? `disabled ${iso(t.disabled_at)}` : 'active'}  ${t.name}  ${t.base_url}  ${tokenState(t)}`);
  emit(out, targets, lines.length ? lines.join('\n') : 'No targets yet: immoflow target create --name N --base-url URL --client-id ID --client-secret S --webhook-secret WHSEC');
}

export async function targetDisable(args: string[], deps: CliDeps, out: CliOutput): Promise<void> {
  const id = requireTargetId(args[0]);
  const target = await createTargetService(deps.db, deps.config).disable(id);
  emit(out, target, `Disabled target ${target.name} (${target.id}): nothing more is pushed to it; its listings stay where they are.`);
}
