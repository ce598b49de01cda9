/** Splitting and the default processing, on their own: the sums must equal `wc` over the whole document. */
import assert from "node:assert/strict";
import { parseChunkObjectKey, chunkObjectKey, settingsFromEnvironment } from "../../handlers/pipeline/settings";
import { countLinesWordsBytes, splitIntoChunks } from "../../handlers/pipeline/textChunks";
import { wc } from "./fixtures";

function totals(chunks: Buffer[]) {
  return chunks
    .map((chunk) => countLinesWordsBytes(chunk))
    .reduce((sum, counts) => ({ lines: sum.lines + counts.lines, words: sum.words + counts.words, bytes: sum.bytes + counts.bytes }));
}

describe("pipeline: splitting documents and counting chunks", () => {
  const document = "Über naïve façades,\tthe  quick brown fox\njumps over\n\nthe lazy dog. ".repeat(40) + "end";

  for (const chunkSizeBytes of [4, 7, 16, 64, 1000, 100_000]) {
    it(`keeps chunks within ${chunkSizeBytes} bytes, loses no byte, and sums to wc's counts`, () => {
      const chunks = splitIntoChunks(Buffer.from(document), chunkSizeBytes);
      assert.ok(chunks.every((chunk) => chunk.length <= chunkSizeBytes && chunk.length > 0));
      assert.equal(Buffer.concat(chunks).toString("utf8"), document);
      for (const chunk of chunks) new TextDecoder("utf-8", { fatal: true }).decode(chunk); // no character cut
      if (chunkSizeBytes >= 16) assert.deepEqual(totals(chunks), wc(document)); // no word is longer than 15 bytes
    });
  }

  it("never cuts a UTF-8 character, even inside an over-long word", () => {
    const word = "é".repeat(50);
    const chunks = splitIntoChunks(Buffer.from(word), 7);
    assert.ok(chunks.every((chunk) => new TextDecoder("utf-8", { fatal: true }).decode(chunk).length > 0));
    assert.equal(Buffer.concat(chunks).toString("utf8"), word);
  });

  it("prefers to end a chunk after a newline", () => {
    const chunks = splitIntoChunks(Buffer.from("aaaa bbbb\ncc dd ee ff"), 16);
    assert.equal(chunks[0].toString(), "aaaa bbbb\n");
  });

  it("refuses chunks smaller than the longest UTF-8 character", () => {
    assert.throws(() => splitIntoChunks(Buffer.from("abc"), 3), {
      name: "RangeError",
      message: "chunkSizeBytes must be a whole number of at least 4 (the longest UTF-8 character); received 3",
    });
  });

  it("makes one empty chunk of an empty document, so every job has a chunk to complete it", () => {
    assert.deepEqual(splitIntoChunks(Buffer.alloc(0), 10), [Buffer.alloc(0)]);
    assert.deepEqual(countLinesWordsBytes(Buffer.alloc(0)), { lines: 0, words: 0, bytes: 0 });
  });

  it("refuses binary data: a NUL byte, or bytes that are not UTF-8", () => {
    assert.throws(() => countLinesWordsBytes(Buffer.from("ab\u0000c")), {
      name: "NotTextError",
      message: "binary data: NUL byte at offset 2",
    });
    assert.throws(() => countLinesWordsBytes(Buffer.from([0x61, 0xff, 0x62])), { name: "NotTextError", message: "not valid UTF-8 text" });
  });

  it("names chunks so they sort in document order, and reads only its own chunk keys back", () => {
    const settings = { chunkPrefix: "chunks/" };
    const jobId = "0123456789abcdef0123456789abcdef";
    assert.equal(chunkObjectKey(settings, jobId, 42), `chunks/${jobId}/000042.txt`);
    assert.deepEqual(parseChunkObjectKey(settings, `chunks/${jobId}/000042.txt`), { jobId, chunkIndex: 42 });
    assert.equal(parseChunkObjectKey(settings, `chunks/${jobId}/42.txt`), undefined);
    assert.equal(parseChunkObjectKey(settings, `documents/${jobId}/000042.txt`), undefined);
  });

  it("reads its settings from the environment, naming a missing or malformed variable", () => {
    assert.throws(() => settingsFromEnvironment({ PIPELINE_BUCKET: "b" }), /environment variable PIPELINE_TABLE \(tableName\) is not set/);
    assert.throws(
      () => settingsFromEnvironment({ PIPELINE_BUCKET: "b", PIPELINE_TABLE: "t", PIPELINE_CHUNK_SIZE_BYTES: "0" }),
      /PIPELINE_CHUNK_SIZE_BYTES \(chunkSizeBytes\) must be a positive whole number; received 0/,
    );
    assert.equal(settingsFromEnvironment({ PIPELINE_BUCKET: "b", PIPELINE_TABLE: "t" }).chunkSizeBytes, 4096);
  });
});
