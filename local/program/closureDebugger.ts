/**
 * Pulumi serializes function closures (CallbackFunction code) through an inspector session it opens in this
 * process with `Debugger.enable`, and never closes. While any session has the debugger enabled, V8 runs every
 * promise and `await` through its debug hooks: in the local runtime, which serves everything after the program
 * is loaded, an `await` cost 5 times as much (measured: ~560 ns → ~100 ns per awaited call).
 *
 * So the debugger is paused once the program is loaded, and resumed before another program is loaded in the
 * same process; `Debugger.enable` reports every script again, so Pulumi's script map is complete once more.
 * https://chromedevtools.github.io/devtools-protocol/v8/Debugger/#method-enable
 */
import type { Session } from "node:inspector";

const V8_HOOKS_MODULE = "@pulumi/pulumi/runtime/closure/v8Hooks";

let paused: Session | undefined;

/** Pulumi's session, if closure serialization has opened one (never opens one itself). */
async function pulumiSession(): Promise<Session | undefined> {
  const loaded = require.cache[require.resolve(V8_HOOKS_MODULE)];
  if (!loaded) return undefined;
  return (loaded.exports as { getSessionAsync(): Promise<Session> }).getSessionAsync();
}

function post(session: Session, method: string): Promise<void> {
  return new Promise((resolve, reject) => session.post(method, (error) => (error ? reject(error) : resolve())));
}

/** Turns the closure serializer's debugger off until `resumeClosureDebugger`. */
export async function pauseClosureDebugger(): Promise<void> {
  const session = await pulumiSession();
  if (!session || session === paused) return;
  await post(session, "Debugger.disable");
  paused = session;
}

/** Turns it back on before Pulumi may serialize closures again. */
export async function resumeClosureDebugger(): Promise<void> {
  if (!paused) return;
  const session = paused;
  paused = undefined;
  await post(session, "Debugger.enable");
}
