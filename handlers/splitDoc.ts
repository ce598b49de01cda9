/**
 * SplitDoc: the demo's step before the wait (a plain `lambda:invoke`, its result unwrapped into the wait's input).
 * It splits the execution input's `document` text into chunks of at most `chunkWords` words, and passes the
 * rest of the input (e.g. `outcome`) through. The real, S3-backed split lives in handlers/pipeline.
 */

export const DEFAULT_DOCUMENT =
  "The callback pattern lets a workflow hand out a task token and wait until someone returns it. " +
  "Step Functions pauses the execution, and resumes it when SendTaskSuccess or SendTaskFailure arrives.";
export const DEFAULT_CHUNK_WORDS = 8;

export interface SplitInput {
  document?: unknown;
  chunkWords?: unknown;
  [key: string]: unknown;
}

export interface SplitOutput {
  chunks: string[];
  [key: string]: unknown;
}

export function splitDoc(input: SplitInput | null | undefined): SplitOutput {
  const {
    document = DEFAULT_DOCUMENT,
    chunkWords = DEFAULT_CHUNK_WORDS,
    ...rest
  } = input !== null && typeof input === "object" ? input : ({} as SplitInput);
  if (typeof document !== "string")
    throw namedError("InvalidDocument", `document must be a string of text; received ${JSON.stringify(document)}`);
  if (typeof chunkWords !== "number" || !Number.isInteger(chunkWords) || chunkWords < 1) {
    throw namedError("InvalidChunkWords", `chunkWords must be a whole number of at least 1; received ${JSON.stringify(chunkWords)}`);
  }
  const words = document.split(/\s+/).filter(Boolean);
  const chunks: string[] = [];
  for (let start = 0; start < words.length; start += chunkWords) chunks.push(words.slice(start, start + chunkWords).join(" "));
  return { ...rest, chunks };
}

function namedError(name: string, message: string): Error {
  const error = new Error(message);
  error.name = name;
  return error;
}

/** The Lambda entry point factory (`callbackFactory`). No clients needed: the split is pure. */
export function splitDocFactory(): (event: SplitInput) => Promise<SplitOutput> {
  return async (event) => splitDoc(event);
}
