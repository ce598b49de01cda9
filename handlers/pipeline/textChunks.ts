/**
 * Splitting a document into chunks, and the default per-chunk processing: `wc`'s line, word and byte
 * counts, which add up exactly across chunks, so a user can check a job's total against `wc` by eye.
 */

/** What the processing step returns for one chunk: named numbers, summed per name over the document. */
export type ChunkResult = Record<string, number>;

export interface ChunkInfo {
  jobId: string;
  chunkIndex: number;
  /** The chunk's object key (decoded). */
  key: string;
}

/** The processing step: pure work on one chunk. Throwing fails the chunk permanently (and the job, once). */
export type ChunkProcessor = (chunk: Buffer, info: ChunkInfo) => ChunkResult | Promise<ChunkResult>;

const NEWLINE = 0x0a;
/** The longest UTF-8 character: a smaller chunk could not hold every character whole. */
export const MIN_CHUNK_BYTES = 4;
/** isspace() in the C locale, as wc uses. */
function isSpace(byte: number): boolean {
  return byte === 0x20 || (byte >= 0x09 && byte <= 0x0d);
}

/**
 * Cuts `document` into chunks of at most `chunkSizeBytes`, each ending right after a newline or other
 * whitespace where possible (so no word or UTF-8 character is split and word counts add up). Only a run of
 * non-space bytes longer than a whole chunk is cut inside, at a UTF-8 character boundary. An empty document
 * is one empty chunk, so every job has at least one chunk to complete it.
 */
export function splitIntoChunks(document: Buffer, chunkSizeBytes: number): Buffer[] {
  if (!Number.isInteger(chunkSizeBytes) || chunkSizeBytes < MIN_CHUNK_BYTES) {
    throw new RangeError(
      `chunkSizeBytes must be a whole number of at least ${MIN_CHUNK_BYTES} (the longest UTF-8 character); received ${chunkSizeBytes}`,
    );
  }
  if (document.length === 0) return [document];
  const chunks: Buffer[] = [];
  let start = 0;
  while (start < document.length) {
    let end = start + chunkSizeBytes;
    if (end >= document.length) {
      chunks.push(document.subarray(start));
      break;
    }
    end = cutPoint(document, start, end);
    chunks.push(document.subarray(start, end));
    start = end;
  }
  return chunks;
}

/** The best end (exclusive) for the chunk [start, limit): after a newline in its second half, else after any whitespace, else a character boundary. */
function cutPoint(document: Buffer, start: number, limit: number): number {
  const half = start + Math.floor((limit - start) / 2);
  const lastNewline = document.lastIndexOf(NEWLINE, limit - 1);
  if (lastNewline >= half) return lastNewline + 1;
  for (let index = limit - 1; index >= start; index--) if (isSpace(document[index])) return index + 1;
  let end = limit;
  // Step back over UTF-8 continuation bytes (10xxxxxx) so a character is never split.
  while (end > start + 1 && (document[end] & 0xc0) === 0x80) end--;
  return end;
}

/**
 * A chunk the default processing refuses: not text. Permanent, so the job fails on the ProcessingFailed path.
 * A plain Error with a name, not a subclass: Pulumi serializes classes as functions, and an Error subclass
 * then loses its message (`Error.call(this)` does not initialise `this`).
 */
export function notTextError(message: string): Error {
  const error = new Error(message);
  error.name = "NotTextError";
  return error;
}

/**
 * The default processing: `wc -l -w -c` of the chunk (lines are newline characters, words are runs of
 * non-space bytes, bytes are bytes). Refuses binary data (a NUL byte or invalid UTF-8): counting words in
 * it means nothing, and it is the natural way to see the failure path with a real document.
 */
export function countLinesWordsBytes(chunk: Buffer): ChunkResult {
  const nul = chunk.indexOf(0);
  if (nul >= 0) throw notTextError(`binary data: NUL byte at offset ${nul}`);
  try {
    new TextDecoder("utf-8", { fatal: true }).decode(chunk);
  } catch {
    throw notTextError("not valid UTF-8 text");
  }
  let lines = 0;
  let words = 0;
  let inWord = false;
  for (const byte of chunk) {
    if (byte === NEWLINE) lines++;
    // isSpace() written out: in the deployed (serialized) function every helper call rebuilds the helper's
    // closure, which per byte was a visible share of a chunk's processing.
    if (byte === 0x20 || (byte >= 0x09 && byte <= 0x0d)) inWord = false;
    else if (!inWord) {
      inWord = true;
      words++;
    }
  }
  return { lines, words, bytes: chunk.length };
}
