/**
 * What a start costs the local S3 on a state folder holding many objects: 10,000 objects of 4 KiB (by default)
 * restored in-process, as `npm start` restores them (metadata only; contents stay in their files until read),
 * side by side with a restore that also reads every content into memory (what a start did before contents were
 * read on demand). Printed per kind: wall and CPU time of the restore, and the heap and buffer bytes it leaves
 * held after a garbage collection. Phases alternate, three of each, on the same folder.
 * `npm run bench -- s3-start`; BENCH_S3_OBJECTS and BENCH_S3_OBJECT_BYTES choose the folder's size.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import type { LocalContext } from "../local/common/service";
import { S3Persistence } from "../local/s3/persistence";
import { S3Service } from "../local/s3/service";
import { SqliteStore } from "../local/store/sqliteStore";

const OBJECTS = Number(process.env.BENCH_S3_OBJECTS ?? 10_000);
const OBJECT_BYTES = Number(process.env.BENCH_S3_OBJECT_BYTES ?? 4096);
const ROUNDS = 3;

// The retained bytes are only meaningful after a full collection; the bench runs without --expose-gc.
setFlagsFromString("--expose-gc");
const gc = runInNewContext("gc") as () => void;
/** Buffers' memory is given back after a collection's finalizers run: collect, let them run, collect again. */
async function collectGarbage(): Promise<void> {
  gc();
  await new Promise((resolve) => setImmediate(resolve));
  gc();
}

async function fill(directory: string): Promise<void> {
  const store = SqliteStore.open(directory);
  const persistence = new S3Persistence(store, store.filesFor("s3"));
  persistence.saveBucket("bench", new Date());
  for (let first = 0; first < OBJECTS; first += 500) {
    const saves: Promise<unknown>[] = [];
    for (let index = first; index < Math.min(OBJECTS, first + 500); index++) {
      const body = Buffer.alloc(OBJECT_BYTES, index % 251);
      const metadata = { etag: '"bench"', lastModified: new Date(), contentType: "application/octet-stream", metadata: {} };
      saves.push(persistence.saveObject("bench", { key: `chunks/${index}`, size: body.length, body, ...metadata }));
    }
    await Promise.all(saves);
    await store.committed();
  }
  store.close();
}

interface Figures {
  wallMs: number;
  cpuMs: number;
  heapBytes: number;
  bufferBytes: number;
}

/** Restores S3 from `directory`; with `readContents`, then reads every object's content and holds it. */
async function restore(directory: string, readContents: boolean): Promise<Figures> {
  await collectGarbage();
  const before = process.memoryUsage();
  const cpuBefore = process.cpuUsage();
  const started = process.hrtime.bigint();
  const store = SqliteStore.open(directory);
  const context = { origin: "http://127.0.0.1:0", region: "us-east-1", accountId: "123456789012", log: () => undefined, store };
  const s3 = new S3Service(context as unknown as LocalContext);
  await s3.restore();
  const held: Buffer[] = [];
  if (readContents) {
    const root = store.filesFor("s3");
    for (const record of store.collection<{ file: string }>("s3.objects").entries())
      held.push(fs.readFileSync(path.join(root, record[1].file)));
  }
  const wallMs = Number(process.hrtime.bigint() - started) / 1e6;
  const cpu = process.cpuUsage(cpuBefore);
  await collectGarbage();
  const after = process.memoryUsage();
  const figures = {
    wallMs,
    cpuMs: (cpu.user + cpu.system) / 1000,
    heapBytes: after.heapUsed - before.heapUsed,
    bufferBytes: after.arrayBuffers - before.arrayBuffers,
  };
  if (s3.objectExists("bench", "chunks/0") !== true || held.length !== (readContents ? OBJECTS : 0))
    throw new Error("restore lost objects");
  store.close();
  return figures;
}

const median = (values: number[]) => [...values].sort((left, right) => left - right)[Math.floor(values.length / 2)];
const megabytes = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MB`;

async function main(): Promise<void> {
  const directory = fs.mkdtempSync(path.join(os.tmpdir(), "bench-s3-start-"));
  try {
    await fill(directory);
    console.log(
      `${OBJECTS.toLocaleString("en")} objects of ${OBJECT_BYTES.toLocaleString("en")} bytes (load average ${os
        .loadavg()
        .map((load) => load.toFixed(1))
        .join(" ")})`,
    );
    const runs: Record<"metadata" | "contents", Figures[]> = { metadata: [], contents: [] };
    for (let round = 0; round < ROUNDS; round++) {
      runs.metadata.push(await restore(directory, false));
      runs.contents.push(await restore(directory, true));
    }
    const summary = (name: string, figures: Figures[]) =>
      `  ${name}: ${median(figures.map((f) => f.wallMs)).toFixed(0)} ms wall, ${median(figures.map((f) => f.cpuMs)).toFixed(0)} ms CPU; ` +
      `held after: heap ${megabytes(median(figures.map((f) => f.heapBytes)))}, buffers ${megabytes(median(figures.map((f) => f.bufferBytes)))}`;
    console.log(summary("start (metadata; contents read when asked)", runs.metadata));
    console.log(summary("start reading every content             ", runs.contents));
    const cpuRatio = median(runs.contents.map((f) => f.cpuMs)) / median(runs.metadata.map((f) => f.cpuMs));
    console.log(`  CPU ratio reading every content / metadata only: ${cpuRatio.toFixed(2)} (medians of ${ROUNDS})`);
  } finally {
    fs.rmSync(directory, { recursive: true, force: true });
  }
}

void main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
