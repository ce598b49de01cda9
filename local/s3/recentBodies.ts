/**
 * The bodies of the latest object writes, by content file, oldest dropped first once they hold more than
 * MAX_BYTES. Why a cache at all: the pipeline writes a chunk and its Lambda reads it a few milliseconds later,
 * and a read from the file waits on libuv's thread pool behind the other writes' fsyncs. Why this bound: at the
 * pipeline's rate a chunk is read well within the last few hundred writes, and 8 MiB holds thousands of 256-byte
 * chunks while keeping memory independent of the bucket's size. A body over MAX_BODY_BYTES is not kept: one
 * large upload would push out every small one for a single read.
 */
const MAX_BYTES = 8 * 1024 * 1024;
const MAX_BODY_BYTES = 1024 * 1024;

export class RecentBodies {
  private readonly bodies = new Map<string, Buffer>();
  private heldBytes = 0;

  /** Bytes held now (never over MAX_BYTES). */
  get bytes(): number {
    return this.heldBytes;
  }

  get size(): number {
    return this.bodies.size;
  }

  get(file: string): Buffer | undefined {
    return this.bodies.get(file);
  }

  remember(file: string, body: Buffer): void {
    if (body.length > MAX_BODY_BYTES) return;
    this.forget(file);
    this.bodies.set(file, body);
    this.heldBytes += body.length;
    for (const [oldest, oldestBody] of this.bodies) {
      if (this.heldBytes <= MAX_BYTES) break;
      this.bodies.delete(oldest);
      this.heldBytes -= oldestBody.length;
    }
  }

  forget(file: string): void {
    const body = this.bodies.get(file);
    if (!body) return;
    this.bodies.delete(file);
    this.heldBytes -= body.length;
  }
}
