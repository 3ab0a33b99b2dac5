import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { TestApi, TestContext, createTestContext, startTestApi } from '../../support/context';

/** `redocly lint` (its default `recommended` rules) on the document the real app serves. */
jest.setTimeout(60_000);
const exec = promisify(execFile);
const REDOCLY = path.resolve(__dirname, '../../../node_modules/.bin/redocly');

interface LintReport {
  totals: { errors: number; warnings: number; ignored: number };
  problems: { ruleId: string; severity: string; message: string; location: { pointer: string }[] }[];
}

let ctx: TestContext;
let api: TestApi;
let dir: string;

beforeAll(async () => {
  ctx = await createTestContext();
  api = await startTestApi(ctx.deps);
  dir = await mkdtemp(path.join(tmpdir(), 'immoflow-openapi-'));
});

afterAll(async () => {
  await api?.close();
  await ctx?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function lint(document: unknown): Promise<LintReport> {
  const file = path.join(dir, `openapi-${Date.now()}.json`);
  await writeFile(file, JSON.stringify(document));
  // Exit code 1 means "errors found": the report on stdout is what we judge, so read it either way.
  const { stdout } = await exec(REDOCLY, ['lint', '--format=json', file], { env: { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true' } }).catch(
    (error: { stdout?: string }) => ({ stdout: error.stdout ?? '' }),
  );
  return JSON.parse(stdout) as LintReport;
}

const summary = (report: LintReport) => report.problems.map((problem) => `${problem.severity} ${problem.ruleId} ${problem.location[0]?.pointer}: ${problem.message}`);

it('lints GET /openapi.json with 0 errors and 0 warnings', async () => {
  const response = await api.request('GET', '/openapi.json');
  expect(response.status).toBe(200);
  const report = await lint(response.body);
  expect(summary(report)).toEqual([]);
  expect(report.totals).toMatchObject({ errors: 0, warnings: 0 });
});

it('reports a broken document, so the assertion above can fail', async () => {
  const document = (await api.request('GET', '/openapi.json')).body;
  delete document.info.license;
  delete document.paths['/api/v1/me'].get.operationId;
  const report = await lint(document);
  expect(report.problems.map((problem) => problem.ruleId).sort()).toEqual(['info-license', 'operation-operationId']);
  expect(report.totals.warnings).toBe(2);
});
