/** The cache of recently written S3 bodies: its bound holds whatever the bodies' sizes and where their bytes live. */
import * as assert from "node:assert/strict";
import { RecentBodies } from "../../../local/s3/recentBodies";

describe("S3 recent bodies cache", () => {
  it("keeps a small body sliced from a shared buffer as a copy of its own, so it does not hold the whole buffer", () => {
    const shared = Buffer.alloc(8192, 7);
    const slice = shared.subarray(100, 356);
    const cache = new RecentBodies();
    cache.remember("/files/a", slice);
    const kept = cache.get("/files/a")!;
    assert.deepEqual(kept, slice);
    assert.equal(kept.buffer.byteLength, 256, "the kept body owns exactly its bytes");
    assert.notEqual(kept.buffer, shared.buffer);
  });

  it("counts every entry, empty bodies included, so their number is bounded too", () => {
    const cache = new RecentBodies();
    for (let index = 0; index < 40_000; index++) cache.remember(`/files/${index}`, Buffer.alloc(0));
    assert.ok(cache.size < 40_000, `${cache.size} empty bodies kept`);
    assert.ok(cache.bytes <= 8 * 1024 * 1024);
    assert.ok(cache.get("/files/39999"), "the latest is kept");
    assert.equal(cache.get("/files/0"), undefined, "the oldest went first");
  });

  it("forgets a body and gives back what it counted", () => {
    const cache = new RecentBodies();
    cache.remember("/files/a", Buffer.alloc(1000));
    const held = cache.bytes;
    cache.remember("/files/b", Buffer.alloc(10));
    cache.forget("/files/b");
    assert.equal(cache.bytes, held);
    cache.forget("/files/a");
    assert.equal(cache.bytes, 0);
    assert.equal(cache.size, 0);
  });
});
