import type { ScenarioResult } from './scenario';

/** bench/results/chaos.json and the table of docs/RELIABILITY.md: pure functions, unit-tested. */

export interface Machine {
  cpus: number;
  memory_gib: number;
  node: string;
  platform: string;
}

/** One scenario's result with the run it came from: a `--only` run leaves the others' as they were. */
export interface ChaosEntry extends ScenarioResult {
  scale: number;
  date: string;
  holds: boolean;
}

export interface ChaosReport {
  /** Of the latest run. */
  scale: number;
  date: string;
  machine: Machine;
  scenarios: ChaosEntry[];
}

export const TABLE_START = '<!-- chaos:table -->';
export const TABLE_END = '<!-- /chaos:table -->';

/** A scenario holds when it found no broken promise: no violation, nothing lost, nothing twice. */
export const holds = (result: ScenarioResult) => result.violations.length === 0 && result.lost === 0 && result.duplicated === 0;

/**
 * The report after a run: the run's scenarios replace their earlier entries (by id), every other
 * entry stays as it was, ordered by id.
 */
export function mergeResults(previous: ChaosReport | undefined, run: { scale: number; date: string; machine: Machine; results: ScenarioResult[] }): ChaosReport {
  const byId = new Map<number, ChaosEntry>();
  for (const entry of previous?.scenarios ?? []) byId.set(entry.id, entry);
  for (const result of run.results) byId.set(result.id, { ...result, scale: run.scale, date: run.date, holds: holds(result) });
  return { scale: run.scale, date: run.date, machine: run.machine, scenarios: [...byId.values()].sort((a, b) => a.id - b.id) };
}

const cell = (text: string) => text.replace(/\|/g, '\\|').replace(/\n/g, ' ');

export function renderTable(report: ChaosReport): string {
  const lines = [
    '| # | scenario | sent | acknowledged | lost | duplicated | recovery | holds? |',
    '|---|---|---|---|---|---|---|---|',
    ...report.scenarios.map((entry) =>
      [
        entry.id,
        cell(entry.name),
        `${entry.sent} ${cell(entry.unit)}`,
        entry.acknowledged,
        entry.lost,
        entry.duplicated,
        entry.recoverySeconds === null ? '–' : `${entry.recoverySeconds} s`,
        entry.holds ? 'yes' : `**no** (${entry.violations.length} violation${entry.violations.length === 1 ? '' : 's'})`,
      ].join(' | '),
    ).map((row) => `| ${row} |`),
  ];
  const scales = [...new Set(report.scenarios.map((entry) => entry.scale))];
  const dates = report.scenarios.map((entry) => entry.date).sort();
  const footer = report.scenarios.length
    ? `\n\nScale ${scales.join(', ')} (1 = the counts of issue 17), measured ${dates[0].slice(0, 10)}${dates[dates.length - 1].slice(0, 10) !== dates[0].slice(0, 10) ? ` to ${dates[dates.length - 1].slice(0, 10)}` : ''} on ${report.machine.cpus} cores, ${report.machine.memory_gib} GiB, Node ${report.machine.node}. Figures and violations in full: [bench/results/chaos.json](../bench/results/chaos.json).`
    : '';
  return `${lines.join('\n')}${footer}`;
}

/** `document` with the table between the markers replaced (the markers appended when missing). */
export function replaceTable(document: string, table: string): string {
  const section = `${TABLE_START}\n${table.trim()}\n${TABLE_END}`;
  const start = document.indexOf(TABLE_START);
  const end = document.indexOf(TABLE_END);
  if (start < 0 || end < start) return `${document.trimEnd()}\n\n${section}\n`;
  return `${document.slice(0, start)}${section}${document.slice(end + TABLE_END.length)}`;
}

/** `--scale 0.1 --only 1,3`. */
export function parseArgs(argv: string[]): { scale: number; only: number[] | null } {
  let scale = 1;
  let only: number[] | null = null;
  for (let i = 0; i < argv.length; i += 1) {
    const [flag, inline] = argv[i].split('=', 2);
    const value = () => inline ?? argv[++i];
    if (flag === '--scale') {
      scale = Number(value());
      if (!Number.isFinite(scale) || scale <= 0) throw new Error('--scale takes a positive number, for example 0.1');
    } else if (flag === '--only') {
      only = value()
        .split(',')
        .map((id) => Number(id.trim()));
      if (only.some((id) => !Number.isInteger(id) || id < 1)) throw new Error('--only takes scenario numbers, for example 1,3');
    } else {
      throw new Error(`unknown argument ${argv[i]} (known: --scale <n>, --only <ids>)`);
    }
  }
  return { scale, only };
}
