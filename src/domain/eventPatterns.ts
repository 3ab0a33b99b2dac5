/**
 * Event patterns of webhook subscriptions.
 *
 * A pattern is one of
 *  - `*`              every event;
 *  - an exact name    `listing.created`;
 *  - `prefix.*`       every event whose name starts with `prefix.`, at any depth:
 *                     `listing.*` matches `listing.created` and `listing.image.uploaded`,
 *                     but not `listing` itself nor `listings.created`.
 * Nothing else is a wildcard: `*` inside or at the start of a name (`*.created`, `listing*`) is
 * not supported and matches nothing.
 *
 * PURE: no I/O, no node built-ins.
 */

const ALL = '*';
const WILDCARD_SUFFIX = '.*';

/** The `prefix.` of a `prefix.*` pattern (with its trailing dot), or null if it is not one. */
function wildcardPrefix(pattern: string): string | null {
  if (!pattern.endsWith(WILDCARD_SUFFIX)) return null;
  const prefix = pattern.slice(0, -1); // keep the dot: 'listing.*' → 'listing.'
  if (prefix.length < 2 || prefix.slice(0, -1).includes('*')) return null;
  return prefix;
}

export function matchesEventPattern(pattern: string, eventName: string): boolean {
  if (pattern === ALL) return true;
  const prefix = wildcardPrefix(pattern);
  if (prefix !== null) return eventName.length > prefix.length && eventName.startsWith(prefix);
  return pattern === eventName;
}

/**
 * Every pattern that matches `eventName`: `*`, the name itself, and `prefix.*` for each proper
 * dot-prefix of it. A subscription receives the event exactly when one of its patterns is in this
 * list, so the database can match subscriptions with an array overlap (`events && patterns`).
 */
export function patternsMatching(eventName: string): string[] {
  const segments = eventName.split('.');
  const prefixes = segments.slice(0, -1).map((_, index) => `${segments.slice(0, index + 1).join('.')}${WILDCARD_SUFFIX}`);
  return [ALL, eventName, ...prefixes];
}

/**
 * Checks subscription patterns against the known event names. A pattern is valid if it is `*`, an
 * exact known name, or `prefix.*` where at least one known name starts with `prefix.`.
 * Returns the invalid patterns in input order, without duplicates.
 */
export function validateEventPatterns(patterns: string[], known: readonly string[]): { invalid: string[] } {
  const invalid: string[] = [];
  for (const pattern of patterns) {
    if (isValidPattern(pattern, known) || invalid.includes(pattern)) continue;
    invalid.push(pattern);
  }
  return { invalid };
}

function isValidPattern(pattern: string, known: readonly string[]): boolean {
  if (pattern === ALL) return true;
  if (known.includes(pattern)) return true;
  const prefix = wildcardPrefix(pattern);
  return prefix !== null && known.some((name) => matchesEventPattern(pattern, name));
}
