import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import nodemailer from 'nodemailer';
import MailComposer from 'nodemailer/lib/mail-composer';
import { loadConfig } from '../src/config';
import { createDb } from '../src/db/knex';
import { createInboxService } from '../src/requests/inboxes';
import { freePort } from '../scripts/stack/processes';
import { startStack } from '../scripts/stack/stack';
import { benchPhases, percentile, prepareBenchEnv, root, round, startChild, stopBenchRun, writeBenchmarkSection } from './harness';

/**
 * `npm run bench:requests` (issue 13): portal mails sent over SMTP at 8 connections. Measures
 * accepted mails/s at the ingress (250 means stored in MinIO and owed in Postgres) and the
 * latency from the start of the send to `request.created` in the event log, side by side with
 * the baseline: smtp-server alone storing the same messages in MinIO (bench/baselineSmtp.ts),
 * no parsing and no workflows. The two alternate in rounds, so noise falls on both alike.
 */
const MAILS = Number(process.env.BENCH_MAILS ?? 500);
const CONNECTIONS = 8;
const ROUNDS = 2;
const WARMUP = 16;

function feedbackXml(index: number): string {
  return `<?xml version="1.0" encoding="UTF-8"?>
<openimmo_feedback><version>1.2.7</version>
  <sender><name>ImmobilienScout24</name><openimmo_anid>IS24</openimmo_anid><datum>01.12.2026 09:${String(index % 60).padStart(2, '0')}</datum></sender>
  <objekt><portal_obj_id>${900000 + index}</portal_obj_id><oobj_id>BENCH-${index % 20}</oobj_id>
    <interessent><anrede>Frau</anrede><vorname>Bench</vorname><nachname>Prospect ${index}</nachname>
      <strasse>Musterstraße ${index}</strasse><plz>10115</plz><ort>Berlin</ort><tel>+49 30 ${1000000 + index}</tel>
      <email>prospect-${index}@example.com</email>
      <anfrage>Guten Tag, ich interessiere mich für die Wohnung und bitte um einen Besichtigungstermin. Mit freundlichen Grüßen</anfrage>
    </interessent>
  </objekt>
</openimmo_feedback>`;
}

/** An ImmobilienScout24-style enquiry (text part, HTML part, XML attachment) of about 6 kB. */
function portalMail(index: number, recipient: string): Promise<Buffer> {
  const text = `Sie haben eine neue Anfrage zu Ihrem Objekt BENCH-${index % 20}.\n\n${'Nachricht des Interessenten. '.repeat(40)}`;
  return new MailComposer({
    from: 'ImmobilienScout24 <noreply@immobilienscout24.de>',
    to: recipient,
    subject: `Kontaktanfrage zu Ihrem Objekt (Scout-ID ${900000 + index})`,
    messageId: `<bench-${index}-${Date.now()}@immobilienscout24.de>`,
    text,
    html: `<p>${text.replace(/\n/g, '<br>')}</p>`,
    attachments: [{ filename: 'openimmo_feedback.xml', content: feedbackXml(index), contentType: 'application/xml' }],
  })
    .compile()
    .build();
}

async function main(): Promise<void> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'immoflow-bench-requests-'));
  const database = `immoflow_bench_requests_${Date.now()}`;
  const phase = benchPhases('requests', 6);
  phase('starting Postgres, Temporal and MinIO');
  const stack = await startStack({ mode: 'test', dataDir, database });
  const children: ChildProcess[] = [];
  try {
    const smtpPort = await freePort();
    const baselinePort = await freePort();
    phase('starting the worker, the SMTP ingress and the baseline SMTP server');
    const { env, cli } = prepareBenchEnv(stack.env, { INBOUND_MAIL_DOMAIN: 'inbound.bench.test' });
    children.push(await startChild('worker', ['src/worker.ts'], { ...env, WORKER_METRICS_PORT: String(await freePort()), LOG_LEVEL: 'info' }, 'worker started'));
    children.push(await startChild('smtp', ['src/smtp.ts'], { ...env, SMTP_PORT: String(smtpPort), LOG_LEVEL: 'info' }, 'smtp ingress listening'));
    children.push(await startChild('baseline-smtp', ['bench/baselineSmtp.ts'], { ...env, SMTP_PORT: String(baselinePort), BASELINE_BUCKET: 'bench-baseline-mail' }, 'baseline smtp ready'));
    const config = loadConfig(env);
    const db = createDb(config);

    const org = cli('org', 'create', '--name', 'Bench Makler', '--plan', 'enterprise', '--owner-email', 'requests@example.com');
    const inbox = (await createInboxService(db, config).current(org.id)).address;
    const total = WARMUP + MAILS;
    const mails = await Promise.all(Array.from({ length: total }, (_, index) => portalMail(index, inbox)));
    const mailBytes = Math.round(mails.reduce((sum, mail) => sum + mail.length, 0) / mails.length);
    console.log(`[bench] ${total} mails of about ${mailBytes} bytes to ${inbox}`);

    /** `CONNECTIONS` clients, each on one reused SMTP connection, sending mails[from…from+count) closed loop. */
    const sendAll = async (port: number, from: number, count: number, sentAt?: Map<number, number>) => {
      const transports = Array.from({ length: CONNECTIONS }, () => nodemailer.createTransport({ host: '127.0.0.1', port, secure: false, ignoreTLS: true, pool: true, maxConnections: 1, maxMessages: Infinity }));
      let next = 0;
      const started = Date.now();
      await Promise.all(
        transports.map(async (transport) => {
          while (next < count) {
            const index = from + next++;
            sentAt?.set(index, Date.now());
            const info = await transport.sendMail({ envelope: { from: 'noreply@immobilienscout24.de', to: [inbox] }, raw: mails[index] });
            if (!/^250/.test(info.response)) throw new Error(`mail ${index}: ${info.response}`);
          }
        }),
      );
      const seconds = (Date.now() - started) / 1000;
      for (const transport of transports) transport.close();
      return seconds;
    };

    const sentAt = new Map<number, number>();
    phase(`warming up: ${WARMUP} mails to each server`);
    await sendAll(baselinePort, 0, WARMUP);
    await sendAll(smtpPort, 0, WARMUP, sentAt);

    let ingressSeconds = 0;
    let baselineSeconds = 0;
    const perRound = Math.ceil(MAILS / ROUNDS);
    phase(`measuring ${ROUNDS} alternating rounds of ${perRound} mails, baseline then Immoflow`);
    for (let roundIndex = 0; roundIndex < ROUNDS; roundIndex += 1) {
      const from = WARMUP + roundIndex * perRound;
      const count = Math.min(perRound, total - from);
      baselineSeconds += await sendAll(baselinePort, from, count);
      ingressSeconds += await sendAll(smtpPort, from, count, sentAt);
    }

    // Every mail becomes one request.created; its prospect's e-mail names the mail it came from.
    phase(`waiting for the ${total} request.created events`);
    const createdAt = new Map<number, number>();
    const deadline = Date.now() + 300_000;
    while (createdAt.size < total) {
      if (Date.now() > deadline) throw new Error(`only ${createdAt.size} of ${total} requests created within 300 s`);
      const rows: { email: string; occurred_at: Date }[] = await db('events')
        .where({ org_id: org.id, name: 'request.created' })
        .select(db.raw("payload->'prospect'->>'email' as email"), 'occurred_at');
      for (const row of rows) createdAt.set(Number(/prospect-(\d+)@/.exec(row.email)?.[1]), row.occurred_at.getTime());
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    const failed = await db('events').where({ org_id: org.id, name: 'request.parsing_failed' }).count<{ count: string }[]>('* as count');
    if (Number(failed[0].count) > 0) throw new Error(`${failed[0].count} mails failed to parse`);
    const measuredIndexes = Array.from({ length: MAILS }, (_, index) => WARMUP + index);
    const latencies = measuredIndexes.map((index) => (createdAt.get(index) as number) - (sentAt.get(index) as number)).sort((a, b) => a - b);
    const lastCreated = Math.max(...measuredIndexes.map((index) => createdAt.get(index) as number));
    const firstSent = Math.min(...measuredIndexes.map((index) => sentAt.get(index) as number));

    const ingressRate = MAILS / ingressSeconds;
    const baselineRate = MAILS / baselineSeconds;
    const result = {
      measured_at: new Date().toISOString(),
      machine: { cpus: os.cpus().length, memory_gib: round(os.totalmem() / 2 ** 30), node: process.version },
      mails: MAILS,
      mail_bytes_avg: mailBytes,
      connections: CONNECTIONS,
      rounds: ROUNDS,
      immoflow: {
        accepted_per_s: round(ingressRate, 1),
        mail_to_request_created_p50_ms: percentile(latencies, 50),
        mail_to_request_created_p99_ms: percentile(latencies, 99),
        // From the first measured send to the last request.created: what the whole pipeline sustains.
        requests_created_per_s: round(MAILS / ((lastCreated - firstSent) / 1000), 1),
      },
      baseline: { accepted_per_s: round(baselineRate, 1) },
      ratio: round(ingressRate / baselineRate, 3),
    };
    phase('writing bench/results/requests.json and docs/BENCHMARKS.md');
    console.log(JSON.stringify(result, null, 2));
    fs.mkdirSync(path.join(root, 'bench/results'), { recursive: true });
    fs.writeFileSync(path.join(root, 'bench/results/requests.json'), `${JSON.stringify(result, null, 2)}\n`);
    writeBenchmarkSection(
      'requests',
      'Contact requests (`npm run bench:requests`)',
      `Measured ${result.measured_at} on ${result.machine.cpus} cores / ${result.machine.memory_gib} GiB, Node ${result.machine.node}; ${MAILS} portal mails of about ${round(mailBytes / 1000, 1)} kB (text, HTML and the OpenImmo-Feedback XML) over SMTP at ${CONNECTIONS} connections, Immoflow and baseline side by side in one run, in ${ROUNDS} alternating rounds. Baseline: smtp-server alone storing each message in MinIO before its 250 (no inbox lookup, no Postgres, no parsing, no workflow). The worker parses while the ingress accepts, on the same 2 cores.

| Immoflow accepted mails/s | mail → request.created p50 ms | p99 ms | requests created/s (end to end) | baseline accepted mails/s | ratio |
|---|---|---|---|---|---|
| ${result.immoflow.accepted_per_s} | ${result.immoflow.mail_to_request_created_p50_ms} | ${result.immoflow.mail_to_request_created_p99_ms} | ${result.immoflow.requests_created_per_s} | ${result.baseline.accepted_per_s} | **${result.ratio}** |`,
    );
    await db.destroy();
  } finally {
    await stopBenchRun({ children, stack, database, dataDir });
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
