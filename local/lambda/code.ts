/**
 * Writes a function's code archive (what Pulumi would zip and upload) into a directory the local function
 * process runs from, as Lambda unpacks it into /var/task. CallbackFunction's archive is the serialized
 * `__index.js` (a StringAsset) plus, unless excluded, FileArchive directories of node_modules packages.
 *
 * The archive arrives as data (local/common/assets.ts: the program is evaluated in another process); Pulumi's
 * own asset objects (whose fields are promises) are accepted too, for callers that build resources in-process.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { isArchiveData, isAssetData } from "../common/assets";

/** Writes `archive` into `directory` (emptied first). Returns the number of bytes of code written. */
export async function materializeCode(archive: unknown, directory: string): Promise<number> {
  fs.rmSync(directory, { recursive: true, force: true });
  fs.mkdirSync(directory, { recursive: true });
  return writeArchive(archive, directory, "code");
}

const isArchive = (value: unknown) => isArchiveData(value) || (value as any)?.__pulumiArchive === true;
const isAsset = (value: unknown) => isAssetData(value) || (value as any)?.__pulumiAsset === true;

/** The kind is told apart by the field each kind defines (assets, path, uri, text); `await` reads data and Pulumi's promises alike. */
async function writeArchive(archive: any, directory: string, label: string): Promise<number> {
  if (!isArchive(archive)) throw new Error(`${label}: expected a Pulumi archive, got ${describe(archive)}`);
  if (archive.assets !== undefined) {
    const entries: Record<string, unknown> = await archive.assets;
    let bytes = 0;
    for (const [name, entry] of Object.entries(entries)) {
      const target = safeJoin(directory, name, label);
      if (isAsset(entry)) bytes += await writeAsset(entry, target, `${label}/${name}`);
      else bytes += await writeArchive(entry, target, `${label}/${name}`);
    }
    return bytes;
  }
  if (archive.path !== undefined) {
    const source = path.resolve(await archive.path);
    const stat = fs.statSync(source, { throwIfNoEntry: false });
    if (!stat) throw new Error(`${label}: FileArchive ${source} does not exist`);
    if (!stat.isDirectory())
      throw new Error(`${label}: FileArchive ${source} is a file (.zip/.tar); only directory archives can be used locally`);
    // A directory is linked, not copied: node_modules packages are large and read-only to the function.
    fs.mkdirSync(path.dirname(directory), { recursive: true });
    fs.symlinkSync(source, directory, "dir");
    return 0;
  }
  throw new Error(`${label}: RemoteArchive cannot be fetched offline`);
}

async function writeAsset(asset: any, target: string, label: string): Promise<number> {
  fs.mkdirSync(path.dirname(target), { recursive: true });
  if (asset.text !== undefined) {
    const text: string = await asset.text;
    fs.writeFileSync(target, text);
    return Buffer.byteLength(text);
  }
  if (asset.path !== undefined) {
    const source: string = await asset.path;
    fs.copyFileSync(source, target);
    return fs.statSync(target).size;
  }
  throw new Error(`${label}: ${describe(asset)} cannot be used offline (only StringAsset and FileAsset)`);
}

/**
 * Archive entry names come from the program; none may escape the code directory. CallbackFunction names a
 * package above the program's directory "../node_modules/x"; in the uploaded zip it is "node_modules/x".
 */
function safeJoin(directory: string, name: string, label: string): string {
  const packagePath = /^(?:\.\.\/)+(node_modules\/.+)$/.exec(name.replace(/\\/g, "/"))?.[1];
  const target = path.resolve(directory, packagePath ?? name);
  if (target !== directory && !target.startsWith(directory + path.sep))
    throw new Error(`${label}: entry "${name}" points outside the archive`);
  return target;
}

function describe(value: unknown): string {
  return value && typeof value === "object" ? (value.constructor?.name ?? "object") : typeof value;
}
