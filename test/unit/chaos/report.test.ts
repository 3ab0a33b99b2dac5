import { ChaosReport, TABLE_END, TABLE_START, holds, mergeResults, parseArgs, renderTable, replaceTable } from '../../../bench/chaos/report';
import type { ScenarioResult } from '../../../bench/chaos/scenario';
import { scaled } from '../../../bench/chaos/scenario';

const machine = { cpus: 2, memory_gib: 23.5, node: 'v20.20.2', platform: 'linux x64' };

function result(id: number, overrides: Partial<ScenarioResult> = {}): ScenarioResult {
  return { id, name: `Scenario ${id}`, sent: 100, unit: 'writes', acknowledged: 100, lost: 0, duplicated: 0, recoverySeconds: 4.2, details: {}, violations: [], ...overrides };
}

describe('mergeResults', () => {
  it('replaces only the scenarios of an --only run and keeps the others with their own scale and date', () => {
    const first = mergeResults(undefined, { scale: 1, date: '2026-12-01T10:00:00.000Z', machine, results: [result(1), result(3), result(4)] });
    const second = mergeResults(first, { scale: 0.1, date: '2026-12-02T10:00:00.000Z', machine, results: [result(3, { sent: 7, lost: 1 })] });
    expect(second.scenarios.map((entry) => [entry.id, entry.scale, entry.date.slice(0, 10), entry.sent, entry.holds])).toEqual([
      [1, 1, '2026-12-01', 100, true],
      [3, 0.1, '2026-12-02', 7, false],
      [4, 1, '2026-12-01', 100, true],
    ]);
    expect(second.scale).toBe(0.1);
  });

  it('orders entries by id whatever order they ran in', () => {
    const report = mergeResults(undefined, { scale: 1, date: '2026-12-02T10:00:00.000Z', machine, results: [result(10), result(2), result(7)] });
    expect(report.scenarios.map((entry) => entry.id)).toEqual([2, 7, 10]);
  });
});

describe('holds', () => {
  it('fails on a violation, a loss or a duplicate', () => {
    expect(holds(result(1))).toBe(true);
    expect(holds(result(1, { violations: ['a 500'] }))).toBe(false);
    expect(holds(result(1, { lost: 1 }))).toBe(false);
    expect(holds(result(1, { duplicated: 2 }))).toBe(false);
  });
});

describe('renderTable', () => {
  it('has one row per scenario with sent, acknowledged, lost, duplicated, recovery and whether it holds', () => {
    const report: ChaosReport = mergeResults(undefined, {
      scale: 0.1,
      date: '2026-12-02T10:00:00.000Z',
      machine,
      results: [result(1, { unit: 'publishes' }), result(3, { recoverySeconds: null, violations: ['one', 'two'], name: 'a | b' })],
    });
    const lines = renderTable(report).split('\n');
    expect(lines[0]).toBe('| # | scenario | sent | acknowledged | lost | duplicated | recovery | holds? |');
    expect(lines[2]).toBe('| 1 | Scenario 1 | 100 publishes | 100 | 0 | 0 | 4.2 s | yes |');
    expect(lines[3]).toBe('| 3 | a \\| b | 100 writes | 100 | 0 | 0 | – | **no** (2 violations) |');
    expect(renderTable(report)).toContain('Scale 0.1');
  });
});

describe('replaceTable', () => {
  it('replaces what is between the markers and nothing else', () => {
    const doc = `# R\n\nbefore\n\n${TABLE_START}\nold table\n${TABLE_END}\n\nafter\n`;
    expect(replaceTable(doc, '| new |')).toBe(`# R\n\nbefore\n\n${TABLE_START}\n| new |\n${TABLE_END}\n\nafter\n`);
  });

  it('appends the markers to a document without them', () => {
    expect(replaceTable('# R\n', 'T')).toBe(`# R\n\n${TABLE_START}\nT\n${TABLE_END}\n`);
  });
});

describe('parseArgs', () => {
  it('reads --scale and --only in both spellings', () => {
    expect(parseArgs([])).toEqual({ scale: 1, only: null });
    expect(parseArgs(['--scale', '0.1', '--only', '1,3'])).toEqual({ scale: 0.1, only: [1, 3] });
    expect(parseArgs(['--scale=0.5', '--only=4'])).toEqual({ scale: 0.5, only: [4] });
  });

  it('refuses what it does not understand', () => {
    expect(() => parseArgs(['--scale', '-1'])).toThrow(/positive/);
    expect(() => parseArgs(['--only', 'x'])).toThrow(/scenario numbers/);
    expect(() => parseArgs(['--fast'])).toThrow(/unknown argument/);
  });
});

describe('scaled', () => {
  it('scales a count and never goes below its minimum', () => {
    expect(scaled(1000, 0.1)).toBe(100);
    expect(scaled(5, 0.1, 2)).toBe(2);
    expect(scaled(60_000, 1, 20_000)).toBe(60_000);
  });
});
