/** A Step Functions service on a SQLite state folder, as a runtime opens it at start: for restart specs. */
import type { LocalContext } from "../../../local/common/service";
import type { Clock } from "../../../local/stepfunctions/clock";
import { StepFunctionsService } from "../../../local/stepfunctions/service";
import { SqliteStore } from "../../../local/store/sqliteStore";
import { FakeLambda } from "../stepfunctions/support/fakeLambda";
import { ACCOUNT, REGION } from "../stepfunctions/support/harness";

export interface Running<C extends Clock | undefined = undefined> {
  store: SqliteStore;
  service: StepFunctionsService;
  lambda: FakeLambda;
  clock: C;
}

/** Opens the folder's store and a service on it (with `clock`, else the system's). */
export function openOnStore<C extends Clock | undefined = undefined>(directory: string, clock?: C): Running<C> {
  const store = SqliteStore.open(directory);
  const lambda = new FakeLambda();
  const context: LocalContext = { origin: "http://127.0.0.1:0", region: REGION, accountId: ACCOUNT, lambda, log: () => undefined, store };
  const service = new StepFunctionsService(context, clock ? { clock } : {});
  return { store, service, lambda, clock: clock as C };
}

/** Closes the service, then its store (as the runtime stops). */
export async function stopOnStore(running: { service: StepFunctionsService; store: SqliteStore }): Promise<void> {
  await running.service.close();
  running.store.close();
}
