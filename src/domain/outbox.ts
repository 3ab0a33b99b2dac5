/** A workflow start owed by a committed transaction (DESIGN §5). Plain data, safe to persist. */
export interface WorkflowStart {
  workflowType: string;
  workflowId: string;
  taskQueue: string;
  args: unknown[];
  /** Keyword search attributes shown in the Temporal UI, e.g. { OrgId: [orgId] }. */
  searchAttributes?: Record<string, string[]>;
}
