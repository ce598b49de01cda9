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
/** What an entry costs besides its bytes (the Map entry, the Buffer object, the path key), so empty bodies count too. */
const ENTRY_OVERHEAD_BYTES = 256;

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
    // A small request body is often a slice of a larger buffer (Node's 8 KiB pool): kept as is, it would hold that
    // whole buffer alive, and the bound would count a fraction of the memory held.
    const own = body.byteLength === body.buffer.byteLength ? body : standalone(body);
    this.bodies.set(file, own);
    this.heldBytes += cost(own);
    for (const [oldest, oldestBody] of this.bodies) {
      if (this.heldBytes <= MAX_BYTES) break;
      this.bodies.delete(oldest);
      this.heldBytes -= cost(oldestBody);
    }
  }

  forget(file: string): void {
    const body = this.bodies.get(file);
    if (!body) return;
    this.bodies.delete(file);
    this.heldBytes -= cost(body);
  }
}

function cost(body: Buffer): number {
  return body.length + ENTRY_OVERHEAD_BYTES;
}

/** A copy in memory of its own (`Buffer.from` would take small copies from the pool again). */
function standalone(body: Buffer): Buffer {
  const copy = Buffer.allocUnsafeSlow(body.length);
  body.copy(copy);
  return copy;
}
