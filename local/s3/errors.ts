/**
 * S3's REST error: an HTTP status plus an XML body `<Error><Code>...</Code><Message>...</Message></Error>`.
 * The SDK and the AWS CLI read the code from the body (HEAD responses carry none, so they fall back to the
 * status). https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html
 */
const STATUS_BY_CODE: Record<string, number> = {
  AccessDenied: 403,
  BadDigest: 400,
  BucketAlreadyOwnedByYou: 409,
  BucketNotEmpty: 409,
  EntityTooSmall: 400,
  IncompleteBody: 400,
  /** Also the local S3's answer when an object's content file is missing from the state folder (S3 has no code for it). */
  InternalError: 500,
  InvalidArgument: 400,
  InvalidBucketName: 400,
  InvalidDigest: 400,
  InvalidPart: 400,
  InvalidPartOrder: 400,
  InvalidRange: 416,
  InvalidRequest: 400,
  MalformedXML: 400,
  MethodNotAllowed: 405,
  NoSuchBucket: 404,
  NoSuchKey: 404,
  NoSuchUpload: 404,
  NotImplemented: 501,
  PreconditionFailed: 412,
  XAmzContentSHA256Mismatch: 400,
};

export class S3Error extends Error {
  readonly statusCode: number;
  constructor(
    readonly code: string,
    message: string,
    /** Extra elements of the error document, e.g. `{ Key: "a.txt" }` or `{ BucketName: "b" }`. */
    readonly details: Record<string, string> = {},
  ) {
    super(message);
    this.name = code;
    this.statusCode = STATUS_BY_CODE[code] ?? 400;
  }
}
