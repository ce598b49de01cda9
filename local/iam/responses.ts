/**
 * What a refused call gets, in each service's own protocol: JSON 1.0 services (Step Functions, DynamoDB) and
 * Lambda's REST-JSON put the code in `__type`/`x-amzn-ErrorType`, S3 answers an XML `<Error>`, API Gateway a
 * `{"message"}` body, the query protocol (SNS; SQS for the AWS CLI) an XML `<ErrorResponse>`, and SQS's JSON
 * protocol coral's shape with the query code in `x-amzn-query-error`. DynamoDB answers every client error with
 * 400; the others answer refusals with 403.
 * https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html
 * https://docs.aws.amazon.com/step-functions/latest/apireference/CommonErrors.html
 */
import { randomBytes, randomUUID } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { sendQueryError } from "../common/awsQuery";
import { MessagingError } from "../common/messaging";
import { escapeXml } from "../common/xml";
import { SNS_NAMESPACE } from "../sns/wire";
import { accessDenied as sqsAccessDenied, jsonErrorType as sqsJsonErrorType } from "../sqs/errors";
import { SQS_NAMESPACE } from "../sqs/wire";
import { authorizationError as snsAuthorizationError } from "../sns/errors";

export type AuthenticationProblem = "incomplete" | "mismatch" | "expired" | "scope" | "unknownKey" | "badToken" | "missing";

export interface Refusal {
  statusCode: number;
  code: string;
  message: string;
}

const MISMATCH =
  "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.";

/** AWS's answer to a request whose signature (or credentials) it does not accept. */
export function authenticationRefusal(signingName: string, problem: AuthenticationProblem, detail = ""): Refusal {
  if (signingName === "s3") {
    switch (problem) {
      case "incomplete":
      case "scope":
        return { statusCode: 400, code: "AuthorizationHeaderMalformed", message: `The authorization header is malformed; ${detail}` };
      case "mismatch":
        return {
          statusCode: 403,
          code: "SignatureDoesNotMatch",
          message: MISMATCH.replace(" Consult the service documentation for details.", ""),
        };
      case "expired":
        return detail === "Request has expired"
          ? { statusCode: 403, code: "AccessDenied", message: detail }
          : {
              statusCode: 403,
              code: "RequestTimeTooSkewed",
              message: "The difference between the request time and the current time is too large.",
            };
      case "unknownKey":
        return {
          statusCode: 403,
          code: "InvalidAccessKeyId",
          message: "The AWS Access Key Id you provided does not exist in our records.",
        };
      case "badToken":
        return { statusCode: 400, code: "InvalidToken", message: "The provided token is malformed or otherwise invalid." };
      case "missing":
        return { statusCode: 403, code: "AccessDenied", message: "Access Denied" };
    }
  }
  const status = (otherwise: number) => (signingName === "dynamodb" ? 400 : otherwise);
  switch (problem) {
    case "incomplete":
      return { statusCode: 400, code: "IncompleteSignatureException", message: detail };
    case "mismatch":
      return { statusCode: status(403), code: "InvalidSignatureException", message: MISMATCH };
    case "expired":
    case "scope":
      return { statusCode: status(403), code: "InvalidSignatureException", message: detail };
    case "unknownKey":
    case "badToken":
      return {
        statusCode: status(403),
        code: "UnrecognizedClientException",
        message: "The security token included in the request is invalid.",
      };
    case "missing":
      return { statusCode: status(403), code: "MissingAuthenticationTokenException", message: "Missing Authentication Token" };
  }
}

/** AWS's AccessDenied for `signingName`'s protocol. */
export function accessDeniedRefusal(signingName: string, message: string): Refusal {
  if (signingName === "s3") return { statusCode: 403, code: "AccessDenied", message };
  if (signingName === "sqs") return refusalOf(sqsAccessDenied(message));
  if (signingName === "sns") return refusalOf(snsAuthorizationError(message));
  return { statusCode: signingName === "dynamodb" ? 400 : 403, code: "AccessDeniedException", message };
}

function refusalOf(error: MessagingError): Refusal {
  return { statusCode: error.statusCode, code: error.queryCode, message: error.message };
}

/** The query protocol's codes for a refused signature (SNS's and SQS's common errors), by the JSON protocol's. */
const QUERY_AUTHENTICATION_CODES: Record<string, string> = {
  IncompleteSignatureException: "IncompleteSignature",
  InvalidSignatureException: "SignatureDoesNotMatch",
  UnrecognizedClientException: "InvalidClientTokenId",
  MissingAuthenticationTokenException: "MissingAuthenticationToken",
};

/** SNS, and SQS for callers of the query protocol (the AWS CLI 2.9; the SDK v3 speaks JSON to SQS), expect XML errors. */
export function usesQueryProtocol(req: IncomingMessage, signingName: string): boolean {
  return signingName === "sns" || (signingName === "sqs" && !String(req.headers["x-amz-target"] ?? "").startsWith("AmazonSQS."));
}

/**
 * A request whose SigV4 credential cannot be read, answered 400 in the protocol of the service it seems to be for:
 * S3's `AuthorizationHeaderMalformed`, the query protocol's `IncompleteSignature`, the JSON protocols'
 * `IncompleteSignatureException` (also when no service can be read from it).
 */
export function sendMalformedCredential(req: IncomingMessage, res: ServerResponse, signingName: string | undefined, message: string): void {
  // The status and code of an incomplete signature, with the reader's own message (S3's prefix is in it already).
  const refusal = { ...authenticationRefusal(signingName ?? "", "incomplete"), message };
  const resource = new URL(req.url ?? "/", "http://local").pathname;
  sendRefusal(res, signingName ?? "", refusal, resource, signingName !== undefined && usesQueryProtocol(req, signingName));
}

/**
 * Sends the refusal in the request's protocol. `queryProtocol`: the request came in SNS's or SQS's query protocol
 * (form-encoded `Action=`), which expects an XML `<ErrorResponse>`.
 */
export function sendRefusal(res: ServerResponse, signingName: string, refusal: Refusal, resource = "/", queryProtocol = false): void {
  if (res.headersSent) return void res.end();
  if (signingName === "sqs" || signingName === "sns") {
    const code = QUERY_AUTHENTICATION_CODES[refusal.code] ?? refusal.code;
    const error = new MessagingError(code, refusal.message, code, refusal.statusCode);
    if (queryProtocol || signingName === "sns") return sendQueryError(res, signingName === "sns" ? SNS_NAMESPACE : SQS_NAMESPACE, error);
    const text = JSON.stringify({ __type: sqsJsonErrorType(error), message: refusal.message });
    res
      .writeHead(refusal.statusCode, {
        "Content-Type": "application/x-amz-json-1.0",
        "Content-Length": Buffer.byteLength(text),
        "x-amzn-RequestId": randomUUID(),
        "x-amzn-query-error": `${code};Sender`,
      })
      .end(text);
    return;
  }
  if (signingName === "s3") {
    const requestId = randomBytes(8).toString("hex").toUpperCase();
    const body =
      `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${refusal.code}</Code><Message>${escapeXml(refusal.message)}</Message>` +
      `<Resource>${escapeXml(resource)}</Resource><RequestId>${requestId}</RequestId><HostId>${randomBytes(24).toString("base64")}</HostId></Error>`;
    res
      .writeHead(refusal.statusCode, {
        "Content-Type": "application/xml",
        "Content-Length": Buffer.byteLength(body),
        "x-amz-request-id": requestId,
      })
      .end(body);
    return;
  }
  const requestId = randomUUID();
  if (signingName === "execute-api") {
    const body = JSON.stringify({ message: refusal.message });
    res
      .writeHead(refusal.statusCode, {
        "Content-Type": "application/json",
        "Content-Length": Buffer.byteLength(body),
        "x-amzn-ErrorType": refusal.code,
        "apigw-requestid": requestId,
      })
      .end(body);
    return;
  }
  // Lambda's REST-JSON names the message "Message"; JSON 1.0 services "message" (DynamoDB "Message" with a namespace).
  const body =
    signingName === "lambda"
      ? { Type: "User", Message: refusal.message }
      : signingName === "dynamodb"
        ? { __type: `com.amazon.coral.service#${refusal.code}`, Message: refusal.message }
        : { __type: refusal.code, message: refusal.message };
  const text = JSON.stringify(body);
  const contentType = signingName === "lambda" ? "application/json" : "application/x-amz-json-1.0";
  res
    .writeHead(refusal.statusCode, {
      "Content-Type": contentType,
      "Content-Length": Buffer.byteLength(text),
      "x-amzn-ErrorType": refusal.code,
      "x-amzn-RequestId": requestId,
    })
    .end(text);
}
