import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ChaosReport, holds, mergeResults, parseArgs, renderTable, replaceTable } from './chaos/report';
import type { ScenarioResult } from './chaos/scenario';
import { scenarios } from './chaos/scenarios';
import { startRunFixtures } from './chaos/runFixtures';
import { startChaosStack } from './chaos/stack';

/**
 * `npm run chaos [--scale 0.1] [--only 1,3]` (issue 17): one stack of its own, every registered
 * scenario in order against it, then bench/results/chaos.json and the table of docs/RELIABILITY.md.
 * Exits 1 when any scenario broke a promise, so CI and a release script can gate on it.
 */
const root = path.resolve(__dirname, '..');
const RESULTS = path.join(root, 'bench/results/chaos.json');
const DOC = path.join(root, 'docs/RELIABILITY.md');

async function main(): Promise<number> {
  const { scale, only } = parseArgs(process.argv.slice(2));
  const chosen = scenarios.filter((scenario) => !only || only.includes(scenario.id));
  const unknown = (only ?? []).filter((id) => !scenarios.some((scenario) => scenario.id === id));
  if (unknown.length) throw new Error(`no scenario ${unknown.join(', ')} is registered (registered: ${scenarios.map((s) => s.id).join(', ')})`);

  const logDir = fs.mkdtempSync(path.join(os.tmpdir(), 'immoflow-chaos-logs-'));
  console.log(`[chaos] scale ${scale}, scenarios ${chosen.map((s) => s.id).join(', ')}; logs in ${logDir}`);
  const started = Date.now();
  // Servers the stack's config must name (a DNS server, a subscriber's port) start first.
  const fixtures = await startRunFixtures();
  const stack = await startChaosStack({ scale, logDir, extraEnv: fixtures.env });
  console.log(`[chaos] stack up in ${Math.round((Date.now() - started) / 1000)} s at ${stack.apiUrl}`);
  const results: ScenarioResult[] = [];
  try {
    for (const scenario of chosen) {
      const t0 = Date.now();
      console.log(`[chaos] ${scenario.id}. ${scenario.name} …`);
      let result: ScenarioResult;
      try {
        result = await scenario.run(stack, scale);
      } catch (error) {
        // A scenario that could not finish is a finding, never a skip.
        result = { id: scenario.id, name: scenario.name, sent: 0, unit: '', acknowledged: 0, lost: 0, duplicated: 0, recoverySeconds: null, details: {}, violations: [`the scenario failed: ${(error as Error).stack ?? String(error)}`] };
      }
      results.push(result);
      console.log(
        `[chaos] ${scenario.id}. ${scenario.name}: sent ${result.sent} ${result.unit}, acknowledged ${result.acknowledged}, lost ${result.lost}, duplicated ${result.duplicated}, recovery ${result.recoverySeconds ?? '–'} s, ${holds(result) ? 'holds' : 'BROKEN'} (${Math.round((Date.now() - t0) / 1000)} s)`,
      );
      for (const violation of result.violations) console.log(`[chaos]   ✗ ${violation}`);
    }
  } finally {
    await stack.stop();
    await fixtures.close();
  }

  const previous = fs.existsSync(RESULTS) ? (JSON.parse(fs.readFileSync(RESULTS, 'utf8')) as ChaosReport) : undefined;
  const report = mergeResults(previous, {
    scale,
    date: new Date().toISOString(),
    machine: { cpus: os.cpus().length, memory_gib: Math.round((os.totalmem() / 2 ** 30) * 10) / 10, node: process.version, platform: `${os.platform()} ${os.arch()}` },
    results,
  });
  fs.mkdirSync(path.dirname(RESULTS), { recursive: true });
  fs.writeFileSync(RESULTS, `${JSON.stringify(report, null, 2)}\n`);
  fs.writeFileSync(DOC, replaceTable(fs.existsSync(DOC) ? fs.readFileSync(DOC, 'utf8') : '# Reliability\n', renderTable(report)));
  console.log(`[chaos] wrote ${path.relative(root, RESULTS)} and the table in ${path.relative(root, DOC)}`);
  return results.every(holds) ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (error) => {
    console.error(error);
    process.exit(1);
  },
);
