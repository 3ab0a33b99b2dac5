import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export const toolsDir = process.env.IMMOFLOW_TOOLS_DIR ?? path.join(os.homedir(), '.cache/immoflow/tools');

/** Finds a provisioned binary: on PATH first, then the tool cache (scripts/provision-tools.sh). */
export function findBinary(name: 'temporal' | 'minio'): { path: string; source: string } {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    const candidate = path.join(dir, name);
    if (dir && isExecutable(candidate)) return { path: candidate, source: `${name} on PATH (${candidate})` };
  }
  const cached = path.join(toolsDir, name);
  if (isExecutable(cached)) return { path: cached, source: `cached build (${cached})` };
  throw new Error(`${name} is not provisioned. Run \`bash scripts/provision-tools.sh ${name}\` (make dev and make test do this).`);
}

function isExecutable(file: string): boolean {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}
