/**
 * What the console reads from the local Step Functions, and how it listens: a small interface the runtime
 * fills with the Step Functions service, so the console never reaches into the engine. Every write (start,
 * SendTask*) goes through `call`, the same code as the API, so the console shows the API's own errors.
 */

/** One history event of one execution, as the Step Functions service reports it. */
export interface SourceChange {
  executionArn: string;
  stateMachineArn: string;
  event: { id: number; type: string };
}

/** A task waiting on its task token. */
export interface SourceWaitingTask {
  token: string;
  stateName?: string;
  /** Epoch ms. */
  openedAt: number;
  heartbeatSeconds?: number;
  /** Epoch ms. */
  heartbeatDeadline?: number;
}

export interface StepFunctionsSource {
  /** An API operation in-process; rejects with an error carrying AWS's `code`, `message` and `statusCode`. */
  call(operation: string, request: object): Promise<any>;
  executionCounts(stateMachineArn: string): Partial<Record<string, number>>;
  waitingTasks(executionArn: string): SourceWaitingTask[];
  /** History events recorded so far, by every execution: what a read at count N has seen changes before. */
  changeCount(): number;
  /** Returns the unsubscribe function. */
  subscribe(listener: (change: SourceChange) => void): () => void;
}

/** The error shape StepFunctionsSource.call rejects with (AWS's error code and message). */
export interface SourceApiError {
  code: string;
  message: string;
  statusCode: number;
}

export function isSourceApiError(error: unknown): error is SourceApiError {
  return (
    typeof error === "object" &&
    error !== null &&
    typeof (error as SourceApiError).code === "string" &&
    typeof (error as SourceApiError).statusCode === "number"
  );
}
