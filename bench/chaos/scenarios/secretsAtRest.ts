import { apiRequest } from '../http';
import { execFile } from 'node:child_process';
import { createHmac, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import { promisify } from 'node:util';
import type { Readable } from 'node:stream';
import { runCli } from '../../../src/cli/run';
import { loadConfig } from '../../../src/config';
import { createStorageClient } from '../../../src/storage/minio';
import { createTemporalClientProvider } from '../../../src/temporal/client';
import { LoopbackServer, startLoopbackServer } from '../hostile/loopbackServer';
import { ChaosStack, Scenario, ScenarioResult, scaled } from '../scenario';

const exec = promisify(execFile);
const WAIT_MS = 60_000;

/** A secret the run saw in full, and what it is. */
export interface Seen {
  kind: string;
  value: string;
}

/** Where a secret was found: the searched place and a masked excerpt around it. */
export interface Finding {
  kind: string;
  hint: string;
  place: string;
  encoding: 'plain' | 'base64' | 'base64url';
  excerpt: string;
}

const hintOf = (secret: string) => `${secret.slice(0, 8)}…${secret.slice(-4)}`;

function request(stack: ChaosStack, method: string, path: string, options: { key?: string; body?: unknown; headers?: Record<string, string>; rawBody?: string } = {}) {
  return apiRequest(stack.apiUrl, method, path, options);
}

async function until<T>(probe: () => T | undefined | Promise<T | undefined>, timeoutMs = WAIT_MS): Promise<T | undefined> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const value = await probe();
    if (value) return value;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  return undefined;
}

/** Runs `immoflow …` in this process, as an operator would on the stack's env; returns its JSON. */
async function cli(deps: Parameters<typeof runCli>[1], argv: string[]): Promise<any> {
  let stdout = '';
  let stderr = '';
  const code = await runCli([...argv, '--json'], deps, { json: true, write: (text) => (stdout += text), error: (text) => (stderr += text) });
  if (code !== 0) throw new Error(`immoflow ${argv.join(' ')} exited ${code}: ${stderr}`);
  return JSON.parse(stdout);
}

/** Reference 001 step 3 over plain HTTP: open the link, register a new agency, confirm. */
async function consentAsNewAgency(stack: ChaosStack, linkUrl: string, index: number): Promise<string | undefined> {
  const path = new URL(linkUrl).pathname;
  const forwarded = { 'X-Forwarded-For': `203.0.113.${100 + (index % 100)}` };
  const page = await request(stack, 'GET', path, { headers: forwarded });
  const cookies = new Map<string, string>();
  const keep = (headers: Headers) => {
    for (const line of headers.getSetCookie()) {
      const [pair] = line.split(';');
      const [name, ...value] = pair.split('=');
      cookies.set(name.trim(), value.join('='));
    }
  };
  keep(page.headers);
  const csrf = /name="csrf" value="([^"]+)"/.exec(page.text)?.[1];
  if (page.status !== 200 || !csrf) return undefined;
  const cookie = () => [...cookies].map(([name, value]) => `${name}=${value}`).join('; ');
  const form = (fields: Record<string, string>) => ({
    headers: { ...forwarded, 'Content-Type': 'application/x-www-form-urlencoded', Cookie: cookie() },
    rawBody: new URLSearchParams(fields).toString(),
  });
  const password = `pw-${randomBytes(12).toString('hex')}`;
  const registered = await request(stack, 'POST', `${path}/register`, form({ organization_name: `Secrets Agency ${index}`, email: `agency-${randomBytes(5).toString('hex')}@secrets.example`, password, csrf }));
  keep(registered.headers);
  if (registered.status !== 303) return undefined;
  const chooser = await request(stack, 'GET', path, { headers: { ...forwarded, Cookie: cookie() } });
  const orgId = /<option value="([^"]+)"/.exec(chooser.text)?.[1];
  if (!orgId) return undefined;
  const confirmed = await request(stack, 'POST', `${path}/confirm`, form({ org_id: orgId, csrf }));
  return confirmed.status === 200 ? password : undefined;
}

async function streamText(stream: Readable): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('latin1');
}

/** Every place a secret could rest, each as text to search. */
async function placesAtRest(stack: ChaosStack, config: ReturnType<typeof loadConfig>, violations: string[], details: Record<string, unknown>): Promise<[string, string][]> {
  const places: [string, string][] = [];
  const pgDump = fs.existsSync('/usr/bin/pg_dump') ? '/usr/bin/pg_dump' : 'pg_dump';
  const { stdout: dump } = await exec(pgDump, ['--no-owner', stack.env.DATABASE_URL], { maxBuffer: 1024 * 1024 * 1024 });
  places.push(['pg_dump', dump]);
  details.pgDumpBytes = dump.length;

  const storage = createStorageClient(config);
  let objects = 0;
  for (const bucket of await storage.listBuckets()) {
    const names: string[] = await new Promise((resolve, reject) => {
      const found: string[] = [];
      const listing = storage.listObjectsV2(bucket.name, '', true);
      listing.on('data', (item) => item.name && found.push(item.name));
      listing.on('end', () => resolve(found));
      listing.on('error', reject);
    });
    for (const name of names) {
      // In `make test` other test files share this MinIO and may delete an object between the
      // listing and the read; an object that no longer exists holds no secret.
      const object = await storage.getObject(bucket.name, name).catch((error: { code?: string }) => {
        if (error.code === 'NoSuchKey') return undefined;
        throw error;
      });
      if (!object) continue;
      places.push([`minio ${bucket.name}/${name}`, await streamText(object)]);
      objects += 1;
    }
  }
  details.minioObjects = objects;

  const temporal = createTemporalClientProvider(config);
  try {
    const client = await temporal.get();
    let histories = 0;
    for await (const execution of client.workflow.list()) {
      const history = await client.workflow.getHandle(execution.workflowId, execution.runId).fetchHistory();
      // Payload bytes come out of the history's JSON as base64: decoded, they are searched as the worker wrote them.
      const text = JSON.stringify(history, (key, value) => (key === 'data' && typeof value === 'string' ? Buffer.from(value, 'base64').toString('utf8') : value));
      places.push([`temporal history ${execution.workflowId} (${execution.type})`, text]);
      histories += 1;
    }
    details.temporalHistories = histories;
  } finally {
    await temporal.close();
  }

  const logFiles = stack.faults.logFiles?.();
  if (!logFiles) violations.push('The stack offers no log files, so logs could not be searched for secrets.');
  for (const file of logFiles ?? []) places.push([`log ${file}`, fs.existsSync(file) ? fs.readFileSync(file, 'latin1') : '']);
  details.logFiles = logFiles?.length ?? 0;
  details.logBytes = (logFiles ?? []).reduce((sum, file) => sum + (fs.existsSync(file) ? fs.statSync(file).size : 0), 0);
  return places;
}

export function search(seen: Seen[], places: [string, string][]): Finding[] {
  const findings: Finding[] = [];
  for (const secret of seen) {
    const forms: [Finding['encoding'], string][] = [
      ['plain', secret.value],
      ['base64', Buffer.from(secret.value).toString('base64').replace(/=+$/, '')],
      ['base64url', Buffer.from(secret.value).toString('base64url')],
    ];
    for (const [place, text] of places) {
      for (const [encoding, form] of forms) {
        const at = text.indexOf(form);
        if (at === -1) continue;
        const excerpt = text.slice(Math.max(0, at - 80), at + form.length + 40).replaceAll(form, `<${secret.kind}>`);
        findings.push({ kind: secret.kind, hint: hintOf(secret.value), place, encoding, excerpt });
      }
    }
  }
  return findings;
}

export async function runSecretsAtRest(stack: ChaosStack, scale: number): Promise<ScenarioResult> {
  const config = loadConfig({ ...process.env, ...stack.env });
  const seen: Seen[] = [];
  const violations: string[] = [];
  const details: Record<string, unknown> = {};
  const see = (kind: string, value: unknown) => {
    if (typeof value === 'string' && value.length >= 12) seen.push({ kind, value });
    else violations.push(`The run expected a ${kind} and got ${JSON.stringify(value)?.slice(0, 80)}.`);
  };
  // Partners' webhooks, subscribers and the portal all live on one allow-listed loopback port.
  const third: LoopbackServer | undefined = await startLoopbackServer(stack.env.WEBHOOK_ALLOW_TARGETS);
  if (!third) violations.push('WEBHOOK_ALLOW_TARGETS names no free 127.0.0.1 port, so no key delivery or webhook delivery could be exercised.');
  const cliTemporal = createTemporalClientProvider(config);
  const cliDeps = { config, db: stack.db, temporal: cliTemporal };
  const rounds = scaled(5, scale, 1);

  try {
    for (let round = 0; round < rounds; round += 1) {
      const org = await stack.seedOrganization();
      see('API key', org.secretKey);
      const created = await cli(cliDeps, ['key', 'create', '--org', org.orgId, '--kind', 'secret', '--mode', 'live', '--scope', 'listings:write', '--name', `secrets-${round}`]);
      see('API key', created.key);

      const hookBase = third?.url ?? 'https://93.184.215.14';
      const webhook = await request(stack, 'POST', '/api/v1/webhooks', { key: org.secretKey, body: { url: `${hookBase}/hooks/${round}`, events: ['listing.*', 'target.*'] } });
      see('webhook secret', webhook.body?.data?.secret);
      const rotated = await request(stack, 'POST', `/api/v1/webhooks/${webhook.body?.data?.id}/rotate-secret`, { key: org.secretKey });
      see('webhook secret', rotated.body?.data?.secret);
      // Deliveries are signed with the secret: the worker holds it, and must not write it down.
      await request(stack, 'POST', `/api/v1/webhooks/${webhook.body?.data?.id}/test`, { key: org.secretKey });
      await request(stack, 'POST', '/api/v1/listings', { key: created.key, body: { external_ref: `secrets-${round}`, title: 'Secrets at rest', city: 'Berlin' } });

      const partner = await cli(cliDeps, ['partner', 'create', '--name', `Secrets CRM ${round}`, '--webhook-url', `${hookBase}/crm/${round}`, '--developer-email', `dev${round}@crm.example`]);
      see('partner client secret', partner.client_secret);
      see('partner webhook secret', partner.webhook_secret);
      const oauth = await request(stack, 'POST', '/crm/oauth', {
        headers: { 'x-crm-client-id': partner.client_id, 'x-crm-client-secret': partner.client_secret, 'X-Forwarded-For': `198.51.100.${round % 200}` },
      });
      see('x-crm-token', oauth.body?.['x-crm-token']);
      if (third) {
        const link = await request(stack, 'POST', '/crm/integrate', { headers: { Authorization: `Bearer ${oauth.body?.['x-crm-token']}` }, body: { agencyId: `secrets-agency-${round}` } });
        const password = typeof link.body?.url === 'string' ? await consentAsNewAgency(stack, link.body.url, round) : undefined;
        if (!password) violations.push(`Round ${round}: the agency could not consent on the connect page (link ${link.status}).`);
        else see('agency password', password);
        const delivery = await until(() => third.received.find((hit) => hit.path === `/crm/${round}` && hit.body.includes('x-api-key')));
        if (!delivery) violations.push(`Round ${round}: the partner never received the agency key within ${WAIT_MS / 1000} s.`);
        else see('agency key (partner onboarding)', JSON.parse(delivery.body)['x-api-key']);

        const targetWebhookSecret = `whsec_${randomBytes(24).toString('base64')}`;
        const targetClientSecret = `portalsec_${randomBytes(16).toString('hex')}`;
        see('target webhook secret', targetWebhookSecret);
        see('target client secret', targetClientSecret);
        const target = await cli(cliDeps, [
          'target', 'create', '--name', `Secrets portal ${round}-${randomBytes(3).toString('hex')}`, '--base-url', `${third.url}/portal`,
          '--client-id', 'immoflow', '--client-secret', targetClientSecret, '--webhook-secret', targetWebhookSecret,
        ]);
        const connect = await request(stack, 'POST', `/api/v1/targets/${target.target.id}/connect`, { key: org.secretKey });
        if (connect.status !== 201) violations.push(`Round ${round}: POST /targets/{id}/connect answered ${connect.status}.`);
        const portalKey = `portalkey_${randomBytes(20).toString('hex')}`;
        see('agency key (portal)', portalKey);
        const body = JSON.stringify({ 'x-api-key': portalKey, agencyId: org.orgId });
        const hook = await request(stack, 'POST', `/partner-hooks/${target.target.id}`, {
          rawBody: body,
          headers: { 'Content-Type': 'application/json', 'X-Webhook-Signature': `sha256=${createHmac('sha256', targetWebhookSecret).update(body).digest('hex')}` },
        });
        if (hook.status !== 200) violations.push(`Round ${round}: the portal's key delivery answered ${hook.status}: ${hook.text.slice(0, 200)}`);
      }
    }
    for (const token of third?.issuedTokens ?? []) see('portal x-crm-token', token);
    if (third) {
      // The test deliveries and listing events reach the subscriber once the worker signed them.
      const expected = rounds;
      const arrived = await until(() => {
        const count = third.received.filter((hit) => hit.path.startsWith('/hooks/') && hit.headers['x-webhook-signature']).length;
        return count >= expected ? count : undefined;
      });
      details.webhookDeliveries = third.received.filter((hit) => hit.path.startsWith('/hooks/')).length;
      if (!arrived) violations.push(`Fewer than ${expected} signed webhook deliveries arrived within ${WAIT_MS / 1000} s.`);
    }

    const places = await placesAtRest(stack, config, violations, details);
    const findings = search(seen, places);
    const leaked = new Set(findings.map((finding) => finding.hint));
    for (const finding of findings.slice(0, 30)) {
      violations.push(`A ${finding.kind} (${finding.hint}) is at rest ${finding.encoding === 'plain' ? 'in full' : `${finding.encoding}-encoded`} in ${finding.place}: …${finding.excerpt}…`);
    }
    details.secretsByKind = seen.reduce<Record<string, number>>((counts, secret) => ({ ...counts, [secret.kind]: (counts[secret.kind] ?? 0) + 1 }), {});
    details.placesSearched = places.length;
    details.findings = findings.length;
    return {
      id: 9,
      name: 'Secrets at rest',
      sent: seen.length,
      unit: 'secrets',
      acknowledged: seen.length,
      lost: leaked.size,
      duplicated: 0,
      recoverySeconds: null,
      details,
      violations,
    };
  } finally {
    await cliTemporal.close();
    await third?.close();
  }
}

export const secretsAtRest: Scenario = {
  id: 9,
  name: 'Secrets at rest',
  run: (stack, scale) => runSecretsAtRest(stack, scale),
};
