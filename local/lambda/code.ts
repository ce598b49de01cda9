/**
 * Writes a function's code archive (what Pulumi would zip and upload) into a directory the local function
 * process runs from, as Lambda unpacks it into /var/task. CallbackFunction's archive is the serialized
 * `__index.js` (a StringAsset) plus, unless excluded, FileArchive directories of node_modules packages.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";

/** Writes `archive` into `directory` (emptied first). Returns the number of bytes of code written. */
export async function materializeCode(archive: unknown, directory: string): Promise<number> {
  fs.rmSync(directory, { recursive: true, force: true });
  fs.mkdirSync(directory, { recursive: true });
  return writeArchive(archive, directory, "code");
}

// Pulumi's `isInstance` is inherited from the Archive/Asset base classes, so the kind is told apart by the
// property each subclass defines (assets, path, uri, text).
async function writeArchive(archive: unknown, directory: string, label: string): Promise<number> {
  if (!pulumi.asset.Archive.isInstance(archive)) throw new Error(`${label}: expected a Pulumi archive, got ${describe(archive)}`);
  if ((archive as any).assets !== undefined) {
    const entries = await (archive as pulumi.asset.AssetArchive).assets;
    let bytes = 0;
    for (const [name, entry] of Object.entries(entries)) {
      const target = safeJoin(directory, name, label);
      if (pulumi.asset.Asset.isInstance(entry)) bytes += await writeAsset(entry, target, `${label}/${name}`);
      else bytes += await writeArchive(entry, target, `${label}/${name}`);
    }
    return bytes;
  }
  if ((archive as any).path !== undefined) {
    const source = path.resolve(await (archive as pulumi.asset.FileArchive).path);
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

async function writeAsset(asset: pulumi.asset.Asset, target: string, label: string): Promise<number> {
  fs.mkdirSync(path.dirname(target), { recursive: true });
  if ((asset as any).text !== undefined) {
    const text = await (asset as pulumi.asset.StringAsset).text;
    fs.writeFileSync(target, text);
    return Buffer.byteLength(text);
  }
  if ((asset as any).path !== undefined) {
    const source = await (asset as pulumi.asset.FileAsset).path;
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
