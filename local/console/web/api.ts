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

/** Calls `onChange` (with the ARNs of the executions that changed) whenever the server reports a change. */
export function subscribe(query: Record<string, string>, onChange: (executionArns: string[]) => void): () => void {
  const source = new EventSource(`/console/api/live?${new URLSearchParams(query)}`);
  source.addEventListener("change", (event) => onChange(JSON.parse((event as MessageEvent).data).executions));
  // A page loads its data, then subscribes: a change between the two (or while the stream reconnects) sends no
  // notice, so every (re)connection counts as one, and the page loads again.
  source.addEventListener("open", () => onChange([]));
  return () => source.close();
}
