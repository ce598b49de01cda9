/** Encoding and hashing: States.Base64Encode, States.Base64Decode, States.Hash. */
import { createHash } from "node:crypto";
import type { IntrinsicFunctionTable } from "../arguments";

const HASH_ALGORITHMS: Record<string, string> = {
  MD5: "md5",
  "SHA-1": "sha1",
  "SHA-256": "sha256",
  "SHA-384": "sha384",
  "SHA-512": "sha512",
};

const BASE64_PATTERN = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

export const ENCODING_FUNCTIONS: IntrinsicFunctionTable = {
  "States.Base64Encode": {
    minArgs: 1,
    maxArgs: 1,
    run(args) {
      const text = args.string(0);
      args.expectShortString(text);
      return Buffer.from(text, "utf8").toString("base64");
    },
  },
  "States.Base64Decode": {
    minArgs: 1,
    maxArgs: 1,
    run(args) {
      const encoded = args.string(0);
      args.expectShortString(encoded);
      if (!BASE64_PATTERN.test(encoded)) throw args.failure("argument 1 is not a valid Base64 string");
      return Buffer.from(encoded, "base64").toString("utf8");
    },
  },
  "States.Hash": {
    minArgs: 2,
    maxArgs: 2,
    run(args) {
      const data = args.string(0);
      args.expectShortString(data);
      const algorithm = args.string(1);
      const nodeAlgorithm = HASH_ALGORITHMS[algorithm];
      if (!nodeAlgorithm) {
        throw args.failure(`unsupported algorithm '${algorithm}'; supported: ${Object.keys(HASH_ALGORITHMS).join(", ")}`);
      }
      return createHash(nodeAlgorithm).update(data, "utf8").digest("hex");
    },
  },
};
