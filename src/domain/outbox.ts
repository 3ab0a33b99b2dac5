/** A workflow start owed by a committed transaction (DESIGN §5). Plain data, safe to persist. */
export interface WorkflowStart {
  workflowType: string;
  workflowId: string;
  taskQueue: string;
  args: unknown[];
  /** Keyword search attributes shown in the Temporal UI, e.g. { OrgId: [orgId] }. */
  searchAttributes?: Record<string, string[]>;
  /**
   * Signal-with-start: deliver this signal to the running workflow of `workflowId`, or start it
   * (with `args`) and deliver it first. For work that one long-lived workflow receives in steps,
   * such as a partner onboarding's new link or the agency's consent.
   */
  signal?: { name: string; args: unknown[] };
  /**
   * Tells apart several owed signals to one workflow id (each its own outbox row); plain starts
   * leave it empty, so one workflow id is owed at most once.
   */
  startKey?: string;
}
