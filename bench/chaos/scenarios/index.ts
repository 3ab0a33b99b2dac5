import type { Scenario } from '../scenario';
import { postgresRestart } from './postgresRestart';
import { temporalOutage } from './temporalOutage';
import { workerKill } from './workerKill';

/** Every scenario of `npm run chaos`, in the order of issue 17 (by id). */
export const scenarios: Scenario[] = [workerKill, postgresRestart, temporalOutage].sort((a, b) => a.id - b.id);
