import { CliDeps, runCli } from '../../src/cli/run';

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
  json: any; // eslint-disable-line @typescript-eslint/no-explicit-any
}

/** Runs the CLI in-process against the real engines and captures what it prints. */
export async function runCliCaptured(deps: CliDeps, argv: string[]): Promise<CliRun> {
  let stdout = '';
  let stderr = '';
  const code = await runCli(argv, deps, { json: false, write: (text) => (stdout += `${text}\n`), error: (text) => (stderr += `${text}\n`) });
  let json: unknown;
  try {
    json = JSON.parse(stdout);
  } catch {
    json = undefined;
  }
  return { code, stdout, stderr, json };
}
