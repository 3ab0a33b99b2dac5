/**
 * API key scopes are `resource:action`. Actions are ordered: a key holding `delete` may also
 * write and read, a key holding `write` may also read. `*` as resource grants every resource.
 */
export const SCOPE_ACTIONS = ['read', 'write', 'delete'] as const;
export type ScopeAction = (typeof SCOPE_ACTIONS)[number];

export const SCOPE_RESOURCES = ['listings', 'webhooks', 'events', 'api_keys', 'partners', 'requests', 'targets'] as const;
export type ScopeResource = (typeof SCOPE_RESOURCES)[number];

export type Scope = `${ScopeResource | '*'}:${ScopeAction}`;

export const ALL_SCOPES: Scope[] = SCOPE_RESOURCES.map((resource) => `${resource}:delete` as Scope);

const SCOPE_PATTERN = /^([a-z_]+|\*):(read|write|delete)$/;

export function isValidScope(text: string): text is Scope {
  const match = SCOPE_PATTERN.exec(text);
  if (!match) return false;
  return match[1] === '*' || (SCOPE_RESOURCES as readonly string[]).includes(match[1]);
}

function rank(action: ScopeAction): number {
  return SCOPE_ACTIONS.indexOf(action);
}

/** True when any granted scope covers the required one (same resource, equal or stronger action). */
export function scopeGrants(granted: readonly string[], required: Scope): boolean {
  const [resource, action] = required.split(':') as [string, ScopeAction];
  return granted.some((scope) => {
    const match = SCOPE_PATTERN.exec(scope);
    if (!match) return false;
    const [, grantedResource, grantedAction] = match;
    return (
      (grantedResource === resource || grantedResource === '*') &&
      rank(grantedAction as ScopeAction) >= rank(action)
    );
  });
}

/** Drops scopes implied by stronger ones, so stored and displayed scope lists stay minimal. */
export function normalizeScopes(scopes: readonly Scope[]): Scope[] {
  const unique = [...new Set(scopes)];
  return unique
    .filter((scope) => !unique.some((other) => other !== scope && scopeGrants([other], scope)))
    .sort();
}

/**
 * Every concrete scope a key holds once `delete ⊃ write ⊃ read` and `*` are applied, e.g.
 * `listings:delete` → `listings:delete`, `listings:read`, `listings:write`: what a key may do,
 * where normalizeScopes keeps only what was granted.
 */
export function effectiveScopes(granted: readonly string[]): Scope[] {
  const all = SCOPE_RESOURCES.flatMap((resource) => SCOPE_ACTIONS.map((action) => `${resource}:${action}` as Scope));
  return all.filter((scope) => scopeGrants(granted, scope)).sort();
}
