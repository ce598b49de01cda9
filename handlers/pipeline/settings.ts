/**
 * Where the document pipeline keeps things, shared by its three functions. The Pulumi component passes these
 * as environment variables; tests build them directly.
 */
export interface PipelineSettings {
  /** The bucket holding documents, chunks and results. */
  bucketName: string;
  /** The DynamoDB table holding jobs and per-chunk records (hash key `jobId`, range key `sk`). */
  tableName: string;
  /** Where documents are read from (and where inline documents are stored). @default "documents/" */
  documentPrefix: string;
  /** Where chunks are written; the processor is subscribed to ObjectCreated events under it. @default "chunks/" */
  chunkPrefix: string;
  /** Where each job's aggregated result is written. @default "results/" */
  resultPrefix: string;
  /** Largest chunk, in bytes. @default 4096 */
  chunkSizeBytes: number;
  /** How long finished jobs and chunk records are kept before DynamoDB TTL deletes them. @default 604800 (7 days) */
  retentionSeconds: number;
  /** The wait's TimeoutSeconds: unfinished jobs are kept this long plus `retentionSeconds`. @default 3600 */
  waitTimeoutSeconds: number;
}

export const PIPELINE_DEFAULTS = {
  documentPrefix: "documents/",
  chunkPrefix: "chunks/",
  resultPrefix: "results/",
  chunkSizeBytes: 4096,
  retentionSeconds: 7 * 24 * 3600,
  waitTimeoutSeconds: 3600,
} as const;

/** The environment variable names the component sets, one per setting. */
export const SETTINGS_ENVIRONMENT: Record<keyof PipelineSettings, string> = {
  bucketName: "PIPELINE_BUCKET",
  tableName: "PIPELINE_TABLE",
  documentPrefix: "PIPELINE_DOCUMENT_PREFIX",
  chunkPrefix: "PIPELINE_CHUNK_PREFIX",
  resultPrefix: "PIPELINE_RESULT_PREFIX",
  chunkSizeBytes: "PIPELINE_CHUNK_SIZE_BYTES",
  retentionSeconds: "PIPELINE_RETENTION_SECONDS",
  waitTimeoutSeconds: "PIPELINE_WAIT_TIMEOUT_SECONDS",
};

/** Reads the settings from a Lambda environment; a missing bucket or table is a deployment error, said plainly. */
export function settingsFromEnvironment(environment: Record<string, string | undefined>): PipelineSettings {
  const text = (key: keyof PipelineSettings, fallback?: string): string => {
    const value = environment[SETTINGS_ENVIRONMENT[key]] ?? fallback;
    if (value === undefined || value === "") throw new Error(`environment variable ${SETTINGS_ENVIRONMENT[key]} (${key}) is not set`);
    return value;
  };
  const whole = (key: keyof PipelineSettings, fallback: number): number => {
    const value = Number(text(key, String(fallback)));
    if (!Number.isInteger(value) || value <= 0)
      throw new Error(
        `environment variable ${SETTINGS_ENVIRONMENT[key]} (${key}) must be a positive whole number; received ${environment[SETTINGS_ENVIRONMENT[key]]}`,
      );
    return value;
  };
  return {
    bucketName: text("bucketName"),
    tableName: text("tableName"),
    documentPrefix: text("documentPrefix", PIPELINE_DEFAULTS.documentPrefix),
    chunkPrefix: text("chunkPrefix", PIPELINE_DEFAULTS.chunkPrefix),
    resultPrefix: text("resultPrefix", PIPELINE_DEFAULTS.resultPrefix),
    chunkSizeBytes: whole("chunkSizeBytes", PIPELINE_DEFAULTS.chunkSizeBytes),
    retentionSeconds: whole("retentionSeconds", PIPELINE_DEFAULTS.retentionSeconds),
    waitTimeoutSeconds: whole("waitTimeoutSeconds", PIPELINE_DEFAULTS.waitTimeoutSeconds),
  };
}

/** Chunk indexes are zero-padded so chunk keys sort in document order. */
export const CHUNK_INDEX_DIGITS = 6;
/** The most chunks one document may have (the padding's limit). */
export const MAX_CHUNKS = 999_999;

export function chunkObjectKey(settings: Pick<PipelineSettings, "chunkPrefix">, jobId: string, chunkIndex: number): string {
  return `${settings.chunkPrefix}${jobId}/${String(chunkIndex).padStart(CHUNK_INDEX_DIGITS, "0")}.txt`;
}

/** The job and chunk a chunk key names, or undefined for any other key. */
export function parseChunkObjectKey(
  settings: Pick<PipelineSettings, "chunkPrefix">,
  key: string,
): { jobId: string; chunkIndex: number } | undefined {
  if (!key.startsWith(settings.chunkPrefix)) return undefined;
  const match = /^([0-9a-f]{32})\/(\d{6})\.txt$/.exec(key.slice(settings.chunkPrefix.length));
  return match ? { jobId: match[1], chunkIndex: Number(match[2]) } : undefined;
}

export function resultObjectKey(settings: Pick<PipelineSettings, "resultPrefix">, jobId: string): string {
  return `${settings.resultPrefix}${jobId}.json`;
}
