/**
 * Group sync: many writers, one fsync for all of them. `request()` resolves once a run of `sync` that began after
 * the request has ended, so it covers everything written before the request. Requests made before a run begins
 * share that run; a run already going may have missed a request's write, so the request waits for the next one.
 * The durable store's write-ahead log (local/store/walSync.ts) and S3's content folders (local/s3/contentFiles.ts)
 * both sync this way. Written here because it is a few lines over any async function, which no library offers.
 */
export class GroupSync {
  /** The next run, not begun yet: a request joins it. */
  private queued?: Promise<void>;
  /** The run going now, if any: a new run begins after it ends. */
  private running?: Promise<void>;

  constructor(private readonly sync: () => Promise<void>) {}

  request(): Promise<void> {
    if (this.queued) return this.queued;
    const previous = this.running?.catch(() => undefined) ?? Promise.resolve();
    const run = previous.then(() => {
      this.queued = undefined;
      const running = this.sync();
      this.running = running;
      const settle = () => {
        if (this.running === running) this.running = undefined;
      };
      running.then(settle, settle);
      return running;
    });
    this.queued = run;
    return run;
  }
}
