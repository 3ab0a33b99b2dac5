import fs from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { PRODUCTION_API_NODE_FLAGS, PRODUCTION_WORKER_NODE_FLAGS } from '../../bench/harness';
import { configVariableNames, loadConfig } from '../../src/config';

/**
 * docker-compose.yml stays in step with the code and the README: the app services set only
 * variables src/config.ts understands (a typo would be silently ignored and fall back to the
 * `make dev` default), and every service the README's Docker section names exists.
 */
const root = path.resolve(__dirname, '../..');
const APP_SERVICES = ['api', 'worker', 'smtp', 'migrate'] as const;

interface ComposeService {
  environment?: Record<string, unknown> | string[];
  env_file?: unknown;
  [key: string]: unknown;
}

function loadCompose(): { services: Record<string, ComposeService> } {
  const text = fs.readFileSync(path.join(root, 'docker-compose.yml'), 'utf8');
  // merge: the file shares settings through YAML anchors and `<<:` merge keys, as Compose does.
  const compose = parse(text, { merge: true }) as { services?: Record<string, ComposeService> };
  if (!compose?.services) throw new Error('docker-compose.yml has no services');
  return { services: compose.services };
}

/** Compose accepts `environment` as a map or as a list of `NAME=value` / `NAME` entries. */
function environmentOf(service: ComposeService): Record<string, string | undefined> {
  const { environment } = service;
  if (environment === undefined) return {};
  if (Array.isArray(environment)) {
    return Object.fromEntries(
      environment.map((entry) => {
        const index = entry.indexOf('=');
        return index === -1 ? [entry, undefined] : [entry.slice(0, index), entry.slice(index + 1)];
      }),
    );
  }
  return Object.fromEntries(
    Object.entries(environment).map(([name, value]) => [name, value === null || value === undefined ? undefined : String(value)]),
  );
}

/**
 * The backtick-quoted words (`postgres`, `temporal-ui`: letters, digits, `-`, `_`) in every
 * section whose heading mentions Docker, up to the next heading. Fenced code blocks are skipped,
 * so `# comments` in a shell example are neither headings nor names.
 */
function dockerSectionNames(markdown: string): { headings: string[]; names: string[] } {
  const headings: string[] = [];
  const names = new Set<string>();
  let inSection = false;
  let fence: string | undefined;
  for (const line of markdown.split(/\r?\n/)) {
    const fenceMatch = /^ {0,3}(`{3,}|~{3,})/.exec(line);
    if (fence) {
      if (fenceMatch && fenceMatch[1][0] === fence[0] && fenceMatch[1].length >= fence.length) fence = undefined;
      continue;
    }
    if (fenceMatch) {
      fence = fenceMatch[1];
      continue;
    }
    const heading = /^ {0,3}#{1,6}(?:\s+(.*))?$/.exec(line);
    if (heading) {
      inSection = /docker/i.test(heading[1] ?? '');
      if (inSection) headings.push(line.trim());
      continue;
    }
    if (!inSection) continue;
    for (const span of line.matchAll(/`([^`\n]+)`/g)) {
      const word = span[1].trim();
      if (/^[A-Za-z0-9_-]+$/.test(word)) names.add(word);
    }
  }
  return { headings, names: [...names] };
}

describe('docker-compose.yml', () => {
  const { services } = loadCompose();
  const known = new Set(configVariableNames);

  it.each(APP_SERVICES)('%s sets only variables src/config.ts understands', (name) => {
    const service = services[name];
    expect(service).toBeDefined();
    // Variables from an env_file could not be checked here.
    expect(service.env_file).toBeUndefined();
    const variables = Object.keys(environmentOf(service));
    expect(variables.length).toBeGreaterThan(0);
    expect(variables.filter((variable) => !known.has(variable))).toEqual([]);
  });

  it.each(APP_SERVICES)("%s's environment is a valid configuration", (name) => {
    const environment = environmentOf(services[name]);
    expect(() => loadConfig(environment as NodeJS.ProcessEnv)).not.toThrow();
    expect(environment.DATABASE_URL).toBeDefined();
  });

  it('runs the worker with the node flags the benchmarks measure it with', () => {
    const command = loadCompose().services.worker.command as string[];
    expect(command.slice(1, -1)).toEqual(PRODUCTION_WORKER_NODE_FLAGS);
    expect(command.at(-1)).toBe('dist/src/worker.js');
  });

  it('runs the API with the node flags the benchmarks measure it with', () => {
    const command = loadCompose().services.api.command as string[];
    expect(command.slice(1, -1)).toEqual(PRODUCTION_API_NODE_FLAGS);
    expect(command.at(-1)).toBe('dist/src/server.js');
  });

  it("has every service README.md's Docker section names", () => {
    const readmePath = path.join(root, 'README.md');
    if (!fs.existsSync(readmePath)) {
      throw new Error('README.md is missing: it must list the docker-compose.yml services in a section whose heading mentions Docker');
    }
    const { headings, names } = dockerSectionNames(fs.readFileSync(readmePath, 'utf8'));
    if (headings.length === 0) throw new Error('README.md has no section whose heading mentions Docker');
    if (names.length === 0) throw new Error(`README.md's Docker section (${headings.join(', ')}) names no services in backticks`);
    expect(names.filter((service) => !(service in services))).toEqual([]);
  });
});

describe('dockerSectionNames', () => {
  it('collects backtick-quoted words from Docker sections only, skipping code blocks', () => {
    const markdown = [
      '# Immoflow',
      'Uses `make` and `node`.',
      '## Running with Docker',
      'Services in `docker-compose.yml`: `postgres`, `temporal-ui`, `api`.',
      '```bash',
      '# not a heading `nope`',
      'docker compose up',
      '```',
      'Then open the `docker compose logs api` output; the `worker` too.',
      '### Configuration',
      'Set `DATABASE_URL`.',
      '## Docker: production notes',
      'Scale `worker`.',
    ].join('\n');
    expect(dockerSectionNames(markdown)).toEqual({
      headings: ['## Running with Docker', '## Docker: production notes'],
      names: ['postgres', 'temporal-ui', 'api', 'worker'],
    });
  });
});
