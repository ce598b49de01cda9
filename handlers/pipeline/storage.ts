/** The S3 calls the pipeline makes, with the client passed in (an `S3Client`, or a wrapper in tests). */
import { GetObjectCommand, PutObjectCommand, type S3Client } from "@aws-sdk/client-s3";

export type SendsS3Commands = Pick<S3Client, "send">;

export async function readObject(client: SendsS3Commands, bucket: string, key: string): Promise<Buffer> {
  const response = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return Buffer.from(await response.Body!.transformToByteArray());
}

export async function writeObject(
  client: SendsS3Commands,
  bucket: string,
  key: string,
  body: Buffer | string,
  contentType: string,
): Promise<void> {
  await client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ContentType: contentType }));
}

/** S3 event records carry keys form-urlencoded ("my file.txt" arrives as "my+file.txt"). */
export function decodeEventKey(key: string): string {
  return decodeURIComponent(key.replace(/\+/g, " "));
}

/** Runs `task` over `items` with at most `limit` in flight, in order of start. */
export async function forEachWithConcurrency<T>(
  items: readonly T[],
  limit: number,
  task: (item: T, index: number) => Promise<void>,
): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      await task(items[index], index);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}
