/** The console's calls to its own server: JSON reads, same-origin JSON writes, and live change events. */

export interface ApiError {
  __type?: string;
  message: string;
}

export type WriteResult<T> = { ok: true; value: T } | { ok: false; error: ApiError };

export async function getJson<T>(path: string, query: Record<string, string | undefined> = {}): Promise<T> {
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(query)) if (value !== undefined) search.set(name, value);
  const response = await fetch(`${path}${search.size > 0 ? `?${search}` : ""}`, { headers: { Accept: "application/json" } });
  const body = await response.json();
  if (!response.ok) throw new Error(`${body.__type ?? response.status}: ${body.message}`);
  return body as T;
}

/** A console action; the API's refusal (e.g. InvalidOutput, TaskTimedOut) comes back as `error`, never thrown. */
export async function postJson<T>(path: string, body: unknown): Promise<WriteResult<T>> {
  try {
    const response = await fetch(path, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
    const parsed = await response.json();
    return response.ok ? { ok: true, value: parsed as T } : { ok: false, error: parsed as ApiError };
  } catch (error) {
    return { ok: false, error: { message: `The local runtime did not answer: ${(error as Error).message}` } };
  }
}

/**
 * A page's live data: `load` fetches what the page shows and gives the change count its answer was read at (the
 * console API's `changeCount`). It runs at once, again on every change notice (with the ARNs of the executions that
 * changed), and when the event stream (re)opens only if something changed between the load and the subscription:
 * the stream's `subscribed` event says the count it subscribed at, and every change after it is told. A page opened
 * on an idle runtime therefore loads once.
 */
export function liveLoad(query: Record<string, string>, load: (executionArns: string[]) => Promise<number | undefined>): () => void {
  let loadedAt: number | undefined;
  let subscribedAt: number | undefined;
  const run = async (executionArns: string[]) => {
    const count = await load(executionArns);
    if (count !== undefined) loadedAt = Math.max(loadedAt ?? count, count);
    catchUp();
  };
  // Once both are known: a load read before the subscription's count may have missed a change.
  const catchUp = () => {
    if (subscribedAt === undefined || loadedAt === undefined) return;
    const missed = loadedAt < subscribedAt;
    subscribedAt = undefined;
    if (missed) void run([]);
  };
  void run([]);
  const source = new EventSource(`/console/api/live?${new URLSearchParams(query)}`);
  source.addEventListener("change", (event) => void run(JSON.parse((event as MessageEvent).data).executions));
  source.addEventListener("subscribed", (event) => {
    subscribedAt = JSON.parse((event as MessageEvent).data).changeCount;
    catchUp();
  });
  return () => source.close();
}
