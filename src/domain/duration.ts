const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 } as const;

/** Parses `500ms`, `10s`, `5m`, `2h` into milliseconds; throws on anything else. */
export function parseDurationMs(text: string): number {
  const match = /^(\d+)(ms|s|m|h)$/.exec(text.trim());
  if (!match) throw new Error(`not a duration: ${JSON.stringify(text)} (expected e.g. 500ms, 10s, 5m, 2h)`);
  return Number(match[1]) * UNIT_MS[match[2] as keyof typeof UNIT_MS];
}
