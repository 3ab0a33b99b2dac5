import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import type { ApiErrorBody, components } from '@immoflow/sdk';
import { buildOpenApiDocument } from '../../../src/openapi/document';

const ROOT = path.resolve(__dirname, '../../..');
const CHECKED_IN = path.join(ROOT, 'packages/sdk/src/schema.d.ts');

// Compile-time drift check (run by `tsc --noEmit`): the SDK's hand-written error envelope must
// accept what the generated schema says the API returns.
const errorEnvelope: ApiErrorBody = {} as components['schemas']['Error'];
void errorEnvelope;

/**
 * The generator as `npm run sdk:generate` runs it, printing instead of writing. A child process:
 * jest's module loader cannot require openapi-typescript's ES-module-only dependencies.
 */
async function generate(documentFile?: string): Promise<string> {
  const args = ['-r', '@swc-node/register', 'scripts/generate-sdk.ts', '--stdout', ...(documentFile ? ['--document', documentFile] : [])];
  const { stdout } = await promisify(execFile)(process.execPath, args, { cwd: ROOT, maxBuffer: 64 * 1024 * 1024 });
  return stdout;
}

describe('@immoflow/sdk generated types', () => {
  it('equal a fresh generation from the OpenAPI document the API serves (run `npm run sdk:generate`)', async () => {
    const [fresh, checkedIn] = await Promise.all([generate(), readFile(CHECKED_IN, 'utf8')]);
    expect(fresh).toContain('export interface paths');
    // A boolean first, so a drift fails with the fix in the message rather than only a long diff.
    expect({ upToDate: fresh === checkedIn, fix: 'npm run sdk:generate' }).toEqual({ upToDate: true, fix: 'npm run sdk:generate' });
  });

  it('follow the document, so the comparison above catches a route added without regenerating', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'sdk-drift-'));
    try {
      const document = buildOpenApiDocument('http://localhost:3000') as { paths?: Record<string, unknown> };
      document.paths = { ...document.paths, '/api/v1/drift-probe': { get: { summary: 'probe', responses: { 200: { description: 'OK' } } } } };
      const file = path.join(dir, 'openapi.json');
      await writeFile(file, JSON.stringify(document));
      const probed = await generate(file);
      expect(probed).toContain('"/api/v1/drift-probe"');
      expect(probed).not.toBe(await readFile(CHECKED_IN, 'utf8'));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
