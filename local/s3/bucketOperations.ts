/** Operations on the service and on buckets: ListBuckets, GetBucketLocation, HeadBucket, CreateBucket, DeleteBucket. */
import { S3Error } from "./errors";
import { OWNER } from "./listing";
import type { Reply } from "./request";
import type { S3Store } from "./store";
import { xmlDocument } from "./xml";

export function listBuckets(s3: S3Store): Reply {
  s3.count("ListBuckets");
  const buckets = [...s3.buckets.values()].map((bucket) => ({ Name: bucket.name, CreationDate: bucket.creationDate.toISOString() }));
  return { body: xmlDocument("ListAllMyBucketsResult", { Owner: OWNER, Buckets: { Bucket: buckets } }) };
}

export function getBucketLocation(s3: S3Store, name: string): Reply {
  s3.count("GetBucketLocation");
  s3.bucketNamed(name);
  // us-east-1 is reported as an empty LocationConstraint. https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetBucketLocation.html
  const region = s3.context.region === "us-east-1" ? "" : s3.context.region;
  return {
    body: `<?xml version="1.0" encoding="UTF-8"?>\n<LocationConstraint xmlns="http://s3.amazonaws.com/doc/2006-03-01/">${region}</LocationConstraint>`,
  };
}

export function headBucket(s3: S3Store, name: string): Reply {
  s3.count("HeadBucket");
  s3.bucketNamed(name);
  return { headers: { "x-amz-bucket-region": s3.context.region } };
}

export function createBucket(s3: S3Store, name: string): Reply {
  s3.count("CreateBucket");
  if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(name))
    throw new S3Error("InvalidBucketName", "The specified bucket is not valid.", { BucketName: name });
  // In us-east-1, re-creating a bucket you own succeeds (legacy behaviour); elsewhere it is a 409.
  if (s3.buckets.has(name) && s3.context.region !== "us-east-1") {
    throw new S3Error("BucketAlreadyOwnedByYou", "Your previous request to create the named bucket succeeded and you already own it.", {
      BucketName: name,
    });
  }
  s3.createBucket(name);
  return { headers: { Location: `/${name}` } };
}

export function deleteBucket(s3: S3Store, name: string): Reply {
  s3.count("DeleteBucket");
  const bucket = s3.bucketNamed(name);
  if (bucket.objects.size) throw new S3Error("BucketNotEmpty", "The bucket you tried to delete is not empty", { BucketName: name });
  s3.deleteBucket(name);
  return { status: 204 };
}
