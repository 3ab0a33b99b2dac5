import type { Scenario } from '../scenario';
import { crossTenantScenario } from './crossTenant';
import { hostileInput } from './hostileInput';
import { idempotencyRaces } from './idempotencyRaces';
import { minioOutage } from './minioOutage';
import { postgresRestart } from './postgresRestart';
import { secretsAtRest } from './secretsAtRest';
import { ssrfScenario } from './ssrf';
import { subscriberOutage } from './subscriberOutage';
import { temporalOutage } from './temporalOutage';
import { workerKill } from './workerKill';

/**
 * Every scenario of `npm run chaos`, in the order they run: by number, except scenario 9, which
 * searches what the whole run left at rest and so runs last.
 */
export const scenarios: Scenario[] = [
  workerKill,
  subscriberOutage,
  postgresRestart,
  temporalOutage,
  minioOutage,
  idempotencyRaces,
  hostileInput,
  crossTenantScenario,
  ssrfScenario,
  secretsAtRest,
];
