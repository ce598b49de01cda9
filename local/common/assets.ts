/**
 * Assets and archives (function code) as data: the form Pulumi itself sends to its engine over gRPC, an
 * object tagged with Pulumi's signature key. The program is evaluated in a child process (local/program), so
 * what reaches the services is JSON; Pulumi's own asset classes hold promises and cannot cross a process.
 * https://github.com/pulumi/pulumi/blob/master/sdk/nodejs/runtime/rpc.ts (specialSigKey, specialAssetSig, specialArchiveSig)
 */
export const SIGNATURE_KEY = "4dabf18193072939515e22adb298388d";
export const ASSET_SIGNATURE = "c44067f5952c0a294b673a41bacd8c17";
export const ARCHIVE_SIGNATURE = "0def7320c3a5731c473e5ecbe6d01bc7";

export interface AssetData {
  [SIGNATURE_KEY]: typeof ASSET_SIGNATURE;
  text?: string;
  path?: string;
  uri?: string;
}

export interface ArchiveData {
  [SIGNATURE_KEY]: typeof ARCHIVE_SIGNATURE;
  assets?: Record<string, AssetData | ArchiveData>;
  path?: string;
  uri?: string;
}

export function isAssetData(value: unknown): value is AssetData {
  return typeof value === "object" && value !== null && (value as any)[SIGNATURE_KEY] === ASSET_SIGNATURE;
}

export function isArchiveData(value: unknown): value is ArchiveData {
  return typeof value === "object" && value !== null && (value as any)[SIGNATURE_KEY] === ARCHIVE_SIGNATURE;
}
