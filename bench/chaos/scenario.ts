import type { Knex } from 'knex';

/**
 * The contract between `npm run chaos` (bench/chaos.ts, which starts a stack of its own and can
 * break it) and each scenario under bench/chaos/scenarios/. A scenario also runs inside jest at a
 * small scale (test/integration/chaos/), on a stack the test builds, so that CI keeps it true.
 */
export interface ChaosStack {
  /** Base URL of a running API, for example http://127.0.0.1:43121. */
  apiUrl: string;
  /** The stack's Postgres (for counting what survived; scenarios never write behind the API's back unless they say why). */
  db: Knex;
  /** The env every process of this stack runs with (names as in src/config.ts). */
  env: Record<string, string>;
  /** A new organisation with an owner and a full-scope secret key. */
  seedOrganization(): Promise<SeededOrganization>;
  /**
   * Faults the stack can inject. The harness's own stack has them all; a jest stack only those it
   * can offer, and a scenario that needs a missing one throws (it never skips silently).
   */
  faults: Partial<ChaosFaults>;
}

export interface SeededOrganization {
  orgId: string;
  secretKey: string;
  secretKeyId: string;
}

export interface ChaosFaults {
  /** SIGKILL one worker process (index into the running workers) and resolve once it is gone. */
  killWorker(index: number): Promise<void>;
  /** Start the worker at `index` again and resolve once it logs `worker started`. */
  startWorker(index: number): Promise<void>;
  /** Number of worker processes the stack runs. */
  workerCount(): number;
  restartPostgres(downMs: number): Promise<void>;
  /** The two halves of restartPostgres, for a scenario that must know when Postgres was gone (an immediate stop, as in a crash). */
  stopPostgres?(): Promise<void>;
  startPostgres?(): Promise<void>;
  stopTemporal(): Promise<void>;
  startTemporal(): Promise<void>;
  stopMinio(): Promise<void>;
  startMinio(): Promise<void>;
  /** Every log file the stack's processes wrote, for scenario 9 (secrets at rest). */
  logFiles(): string[];
  /**
   * Whether the API and each worker process still run: "recovers without a restart" means that
   * none of them exited during an engine's outage.
   */
  processesRunning?(): { api: boolean; workers: boolean[] };
}

/** One row of docs/RELIABILITY.md and one entry of bench/results/chaos.json. */
export interface ScenarioResult {
  /** The scenario's number in issue 17 (1–10). */
  id: number;
  name: string;
  /** What was sent: requests, writes, events, URLs … (`unit` says which). */
  sent: number;
  unit: string;
  /** What the product acknowledged (2xx, or for hostile input: answered without 5xx or hang). */
  acknowledged: number;
  /** Acknowledged but missing afterwards (must be 0). For SSRF: targets that got through. */
  lost: number;
  /** Ran or arrived more than once where once was promised (must be 0). */
  duplicated: number;
  /** Seconds from the end of the fault to everything caught up; null where no fault was injected. */
  recoverySeconds: number | null;
  /** Scenario-specific figures (counts by status, lag, …), kept in chaos.json. */
  details: Record<string, unknown>;
  /** Broken promises found, each in one sentence; empty when the scenario holds. */
  violations: string[];
}

export interface Scenario {
  id: number;
  name: string;
  /** `scale` 1 is the full counts; `make test` runs 0.1 or less. */
  run(stack: ChaosStack, scale: number): Promise<ScenarioResult>;
}

/** A count scaled down for small runs, never below `minimum`. */
export function scaled(count: number, scale: number, minimum = 1): number {
  return Math.max(minimum, Math.round(count * scale));
}
