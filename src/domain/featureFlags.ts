/** Organisation feature flags. Routes behind an off flag answer 404, as if they did not exist. */
export const FEATURE_FLAGS = ['LISTINGS_WRITE_API_ENABLED', 'WEBHOOKS_PUBLIC_API_ENABLED'] as const;
export type FeatureFlag = (typeof FEATURE_FLAGS)[number];

export function isFeatureFlag(name: string): name is FeatureFlag {
  return (FEATURE_FLAGS as readonly string[]).includes(name);
}

export type FeatureFlags = Partial<Record<FeatureFlag, boolean>>;

export function parseFlagAssignment(text: string): { flag: FeatureFlag; enabled: boolean } {
  const match = /^([A-Z_]+)=(on|off|true|false)$/.exec(text);
  if (!match || !isFeatureFlag(match[1])) {
    throw new Error(`expected FLAG=on|off with FLAG one of ${FEATURE_FLAGS.join(', ')}; got ${JSON.stringify(text)}`);
  }
  return { flag: match[1], enabled: match[2] === 'on' || match[2] === 'true' };
}
