/** One sync for many writers: a request is covered only by a run that began after it, and waiting requests share one. */
import * as assert from "node:assert/strict";
import { GroupSync } from "../../../local/common/groupSync";

/** A sync whose runs end when the test says, each run recording the writes made before it began. */
function controlledSync() {
  const written: number[] = [];
  const runs: Array<{ covers: number[]; end(error?: Error): void }> = [];
  const group = new GroupSync(
    () =>
      new Promise<void>((resolve, reject) => {
        runs.push({ covers: [...written], end: (error) => (error ? reject(error) : resolve()) });
      }),
  );
  return { group, written, runs };
}

const turn = () => new Promise((resolve) => setImmediate(resolve));

describe("GroupSync", () => {
  it("lets requests made before a run begins share it, and makes a request made during a run wait for the next", async () => {
    const { group, written, runs } = controlledSync();
    const acknowledged: number[] = [];
    const write = (n: number) => {
      written.push(n);
      void group.request().then(() => acknowledged.push(n));
    };
    write(1);
    write(2);
    await turn();
    assert.equal(runs.length, 1, "one run for both");
    write(3); // the running sync may have missed it
    write(4);
    await turn();
    assert.equal(runs.length, 1, "no second run while the first goes");
    runs[0].end();
    await turn();
    assert.deepEqual(acknowledged, [1, 2]);
    assert.equal(runs.length, 2);
    assert.deepEqual(runs[1].covers, [1, 2, 3, 4]);
    runs[1].end();
    await turn();
    assert.deepEqual(acknowledged, [1, 2, 3, 4]);
  });

  it("rejects the requests a failed run covered, and runs again for the next request", async () => {
    const { group, runs } = controlledSync();
    const failed = group.request();
    await turn();
    runs[0].end(new Error("EIO"));
    await assert.rejects(failed, /EIO/);
    const next = group.request();
    await turn();
    assert.equal(runs.length, 2);
    runs[1].end();
    await next;
  });
});
