/**
 * The files holding S3 objects' content under the store's `s3` folder: written durably, read when a request asks
 * for a body (not at start: memory stays the size of the metadata, whatever the bucket holds), and removed once no
 * read holds them.
 *
 * Durable means the file's bytes and the directory entry naming it are both fsynced before the write counts as
 * done: a file fsynced in a directory whose new entry is not can vanish in a power cut while the record naming it
 * survives. Directories are made once (remembered), their own new entries synced in their parents, and made again
 * if someone removed one. Concurrent writes into one directory share a directory sync when they can.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { GroupSync } from "../common/groupSync";
import { S3Error } from "./errors";
import { RecentBodies } from "./recentBodies";

/**
 * What a new file holds: bytes, or pieces joined in order, each bytes or an existing file (absolute path) copied in
 * chunks, so a completed multipart upload's parts reach the object's file without the whole object in memory.
 */
export type FileContent = Buffer | ReadonlyArray<Buffer | string>;

/** Copy chunk for a piece given as a file: bounds the memory a join of 5 GiB parts takes. */
const JOIN_CHUNK_BYTES = 1024 * 1024;

/** The disk calls a write makes, so a test can see their order (tests/local/s3/contentFiles.test.ts). */
export interface ContentDisk {
  /** `mkdir -p`. */
  makeDirectory(directory: string): Promise<void>;
  /** Creates `file` (failing if it exists), writes `content` and fsyncs the file. */
  createFile(file: string, content: FileContent): Promise<void>;
  /** fsyncs a directory, so the entries created in it so far survive a power cut. */
  syncDirectory(directory: string): Promise<void>;
}

/** Node's file system, every call on libuv's thread pool (never blocking the event loop on the disk). */
export const nodeDisk: ContentDisk = {
  makeDirectory: async (directory) => void (await fs.promises.mkdir(directory, { recursive: true })),
  async createFile(file, content) {
    const handle = await fs.promises.open(file, "wx");
    try {
      // Each writeFile on the handle continues where the previous one ended.
      for (const piece of Buffer.isBuffer(content) ? [content] : content) {
        if (Buffer.isBuffer(piece)) await handle.writeFile(piece);
        else
          for await (const chunk of fs.createReadStream(piece, { highWaterMark: JOIN_CHUNK_BYTES }))
            await handle.writeFile(chunk as Buffer);
      }
      await handle.sync();
    } finally {
      await handle.close();
    }
  },
  async syncDirectory(directory) {
    // Windows cannot open a directory to fsync it; NTFS journals directory entries itself.
    if (process.platform === "win32") return;
    const handle = await fs.promises.open(directory, "r");
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  },
};

export class ContentFiles {
  /** Bodies of the latest writes, so the read that follows a write at once (the pipeline's chunks) skips the disk. */
  readonly recent = new RecentBodies();
  /** Directories known to exist, their entries synced: a write into one makes no `mkdir`. */
  private readonly madeDirectories = new Set<string>();
  /** Directories below the root whose entry in their parent is known to be synced (by this process). */
  private readonly durableDirectories = new Set<string>();
  /** Directories being made: a concurrent write into the same one waits for its parents' syncs too. */
  private readonly makingDirectories = new Map<string, Promise<void>>();
  /** Per directory, its syncs: a write joins one not yet begun, and waits for the next after one already going. */
  private readonly directorySyncs = new Map<string, GroupSync>();
  /** Reads in progress per file, and files to remove once their last read ends. */
  private readonly readers = new Map<string, number>();
  private readonly removeWhenUnread = new Set<string>();

  constructor(
    readonly root: string,
    private readonly disk: ContentDisk = nodeDisk,
  ) {}

  /**
   * Resolves once `file` (absolute) holds `content` and both it and its directory entry are on disk. `cache: false`
   * for content no request reads back soon (a multipart upload's parts, read only by the completion's join).
   */
  async write(file: string, content: FileContent, { cache = true } = {}): Promise<void> {
    const directory = path.dirname(file);
    await this.makeDirectory(directory);
    try {
      await this.disk.createFile(file, content);
    } catch (error) {
      const { code, path: missing } = error as NodeJS.ErrnoException;
      // Only a missing directory is mended here; a piece given as a file that is gone is the caller's to name.
      if (code !== "ENOENT" || (missing !== undefined && missing !== file)) throw error;
      // The directory was removed since it was made (by hand, or a disk cleaner): make it again.
      this.madeDirectories.delete(directory);
      for (let level = directory; this.isBelowRoot(level); level = path.dirname(level)) this.durableDirectories.delete(level);
      await this.makeDirectory(directory);
      await this.disk.createFile(file, content);
    }
    await this.syncDirectory(directory);
    // A joined file is not cached: it is as large as the upload, and its parts were cached (or not) on their own.
    if (cache && Buffer.isBuffer(content)) this.recent.remember(file, content);
  }

  /**
   * `length` bytes from `start` of `file` (absolute), whose record says it holds `size` bytes. The file counts as
   * read from this call on (synchronously), so a removal after an overwrite waits for this read to end.
   */
  async read(file: string, size: number, start = 0, length = size - start): Promise<Buffer> {
    const recent = this.recent.get(file);
    if (recent) return recent.subarray(start, start + length);
    this.readers.set(file, (this.readers.get(file) ?? 0) + 1);
    try {
      const handle = await fs.promises.open(file, "r");
      try {
        const actualSize = (await handle.stat()).size;
        if (actualSize !== size) {
          throw new S3Error(
            "InternalError",
            `The content of this object in the state folder is damaged: ${file} holds ${actualSize} bytes, its record says ${size}.`,
          );
        }
        const buffer = Buffer.alloc(length);
        let filled = 0;
        while (filled < length) {
          const { bytesRead } = await handle.read(buffer, filled, length - filled, start + filled);
          if (bytesRead === 0) break;
          filled += bytesRead;
        }
        return buffer.subarray(0, filled);
      } finally {
        await handle.close();
      }
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") {
        throw new S3Error(
          "InternalError",
          `The content of this object is missing from the state folder: ${file} does not exist. DeleteObject removes the object; a new PutObject replaces it.`,
        );
      }
      throw error;
    } finally {
      const left = this.readers.get(file)! - 1;
      if (left > 0) this.readers.set(file, left);
      else {
        this.readers.delete(file);
        if (this.removeWhenUnread.delete(file)) this.removeNow(file);
      }
    }
  }

  /** Removes `file` (absolute) now, or when the reads begun before this call end. */
  remove(file: string): void {
    this.recent.forget(file);
    if (this.readers.has(file)) this.removeWhenUnread.add(file);
    else this.removeNow(file);
  }

  private removeNow(file: string): void {
    // Best effort: a file left behind is named by no record and swept at the next start. Synchronous, as an
    // unlink without a sync is quick, and a test (or a clean stop) then sees the folder as the records say.
    try {
      fs.rmSync(file, { force: true });
    } catch {
      // swept at the next start
    }
  }

  private makeDirectory(directory: string): Promise<void> {
    if (this.madeDirectories.has(directory)) return Promise.resolve();
    const making = this.makingDirectories.get(directory);
    if (making) return making;
    const made = (async () => {
      await this.disk.makeDirectory(directory);
      // Each directory made is a new entry in its parent: sync those too, or the path itself could vanish. Not only
      // the levels this mkdir made: a level a concurrent write made (a new bucket's folder, for a sibling) may not
      // be synced yet, so every level not known to be durable is synced in its parent (once per process).
      const levels: string[] = [];
      for (let level = directory; this.isBelowRoot(level) && !this.durableDirectories.has(level); level = path.dirname(level)) {
        levels.push(level);
      }
      await Promise.all(levels.map((level) => this.syncDirectory(path.dirname(level))));
      for (const level of levels) this.durableDirectories.add(level);
      this.madeDirectories.add(directory);
    })().finally(() => this.makingDirectories.delete(directory));
    this.makingDirectories.set(directory, made);
    return made;
  }

  private isBelowRoot(directory: string): boolean {
    const relative = path.relative(this.root, directory);
    return relative !== "" && !relative.startsWith("..") && !path.isAbsolute(relative);
  }

  /** Syncs `directory`, covering every entry created in it before this call (shared with other writes when it can). */
  private syncDirectory(directory: string): Promise<void> {
    let group = this.directorySyncs.get(directory);
    if (!group) {
      group = new GroupSync(() => this.disk.syncDirectory(directory));
      this.directorySyncs.set(directory, group);
    }
    return group.request();
  }
}
