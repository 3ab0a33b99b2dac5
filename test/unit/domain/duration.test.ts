import { parseDurationMs } from '../../../src/domain/duration';

describe('parseDurationMs', () => {
  it.each([
    ['500ms', 500],
    ['1ms', 1],
    ['0ms', 0],
    ['10s', 10_000],
    ['1s', 1000],
    ['30s', 30_000],
    ['5m', 300_000],
    ['1m', 60_000],
    ['2h', 7_200_000],
    ['24h', 86_400_000],
    ['72h', 259_200_000],
    ['0s', 0],
    ['1500ms', 1500],
    ['90m', 5_400_000],
    ['007s', 7000],
  ])('%s → %d ms', (text, ms) => {
    expect(parseDurationMs(text)).toBe(ms);
  });

  it('does not confuse minutes and milliseconds', () => {
    expect(parseDurationMs('5m')).toBe(300_000);
    expect(parseDurationMs('5ms')).toBe(5);
  });

  it('ignores surrounding whitespace', () => {
    expect(parseDurationMs(' 10s ')).toBe(10_000);
    expect(parseDurationMs('\t2h\n')).toBe(7_200_000);
  });

  it.each([
    '',
    ' ',
    '10',
    's',
    'ms',
    '10 s',
    '10S',
    '10MS',
    '10H',
    '10d',
    '10sec',
    '10min',
    '1.5s',
    '.5s',
    '-1s',
    '+1s',
    '1e3ms',
    '0x10s',
    '10s5',
    '1h30m',
    '10ss',
    'abc',
    'NaN',
    'Infinity',
    '١٠s', // Arabic-Indic digits are not \d in JS
  ])('rejects %j', (text) => {
    expect(() => parseDurationMs(text)).toThrow(/^not a duration: .* \(expected e\.g\. 500ms, 10s, 5m, 2h\)$/);
  });

  it('quotes the rejected text in the error', () => {
    expect(() => parseDurationMs('10 days')).toThrow('not a duration: "10 days"');
  });
});
