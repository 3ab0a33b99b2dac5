import fs from 'node:fs';
import path from 'node:path';
import { configVariableNames } from '../../src/config';

/** The README's configuration table is the operator's reference: it must name every variable. */
it('documents every variable of src/config.ts in the README configuration table', () => {
  const readme = fs.readFileSync(path.resolve(__dirname, '../../README.md'), 'utf8');
  const table = readme.slice(readme.indexOf('## Configuration'), readme.indexOf('\n## ', readme.indexOf('## Configuration') + 1));
  const documented = new Set([...table.matchAll(/^\| `([A-Z0-9_]+)` \|/gm)].map((match) => match[1]));
  expect(configVariableNames.filter((name) => !documented.has(name))).toEqual([]);
  expect([...documented].filter((name) => !configVariableNames.includes(name))).toEqual([]);
});
