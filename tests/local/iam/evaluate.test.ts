/**
 * The policy evaluator against the cases AWS's evaluation-logic and policy-element pages work through (restated
 * in our own words): explicit deny wins, an allow is needed, same-account resource policies, NotAction and
 * NotResource, wildcards, condition operators and their absent-key rules, policy variables.
 */
import assert from "node:assert/strict";
import { evaluate, type EvaluatedPrincipal } from "../../../local/iam/evaluate";
import { readPolicy, type PolicyStatement, type SourcedStatement } from "../../../local/iam/policy";
import { matchesArn } from "../../../local/iam/wildcards";

const ACCOUNT = "123456789012";
const ROLE = `arn:aws:iam::${ACCOUNT}:role/worker`;
const SESSION: EvaluatedPrincipal = { arn: `arn:aws:sts::${ACCOUNT}:assumed-role/worker/fn`, roleArn: ROLE };
const BUCKET = "arn:aws:s3:::docs";

function policy(...statements: PolicyStatement[]): SourcedStatement[] {
  return readPolicy({ Version: "2012-10-17", Statement: statements }, "test policy");
}

function decide(
  action: string,
  resource: string,
  options: {
    identity?: SourcedStatement[];
    resourcePolicy?: SourcedStatement[];
    context?: Record<string, string[]>;
    principal?: EvaluatedPrincipal;
  } = {},
) {
  const context = new Map(Object.entries(options.context ?? {}).map(([key, values]) => [key.toLowerCase(), values]));
  return evaluate({
    principal: options.principal ?? SESSION,
    action,
    resource,
    context,
    identity: options.identity ?? [],
    resourcePolicy: options.resourcePolicy ?? [],
  }).effect;
}

describe("IAM policy evaluation", () => {
  describe("the decision", () => {
    it("denies implicitly when no statement matches", () => {
      assert.equal(decide("s3:GetObject", `${BUCKET}/a`), "ImplicitDeny");
      assert.equal(
        decide("s3:PutObject", `${BUCKET}/a`, { identity: policy({ Effect: "Allow", Action: "s3:GetObject", Resource: `${BUCKET}/*` }) }),
        "ImplicitDeny",
      );
    });

    it("lets an explicit Deny win over any Allow, wherever the Allow is", () => {
      const identity = policy(
        { Effect: "Allow", Action: "s3:*", Resource: "*" },
        { Effect: "Deny", Action: "s3:DeleteObject", Resource: `${BUCKET}/*` },
      );
      const resourcePolicy = policy({ Effect: "Allow", Principal: { AWS: ROLE }, Action: "s3:DeleteObject", Resource: `${BUCKET}/*` });
      assert.equal(decide("s3:DeleteObject", `${BUCKET}/a`, { identity, resourcePolicy }), "ExplicitDeny");
      assert.equal(decide("s3:GetObject", `${BUCKET}/a`, { identity, resourcePolicy }), "Allow");
    });

    it("allows in one account when either the identity policy or a resource policy naming the role allows", () => {
      const resourcePolicy = policy({ Effect: "Allow", Principal: { AWS: ROLE }, Action: "s3:GetObject", Resource: `${BUCKET}/*` });
      assert.equal(decide("s3:GetObject", `${BUCKET}/a`, { resourcePolicy }), "Allow");
      assert.equal(
        decide("s3:GetObject", `${BUCKET}/a`, { identity: policy({ Effect: "Allow", Action: "s3:GetObject", Resource: `${BUCKET}/a` }) }),
        "Allow",
      );
    });

    it("does not let a resource policy naming only the account allow a role by itself (it delegates to IAM)", () => {
      const resourcePolicy = policy({
        Effect: "Allow",
        Principal: { AWS: `arn:aws:iam::${ACCOUNT}:root` },
        Action: "s3:GetObject",
        Resource: `${BUCKET}/*`,
      });
      assert.equal(decide("s3:GetObject", `${BUCKET}/a`, { resourcePolicy }), "ImplicitDeny");
      const denyAll = policy({ Effect: "Deny", Principal: { AWS: ACCOUNT }, Action: "s3:GetObject", Resource: `${BUCKET}/*` });
      assert.equal(
        decide("s3:GetObject", `${BUCKET}/a`, {
          resourcePolicy: denyAll,
          identity: policy({ Effect: "Allow", Action: "*", Resource: "*" }),
        }),
        "ExplicitDeny",
      );
    });

    it("gives a service principal only what the resource policy grants it, under its source conditions", () => {
      const resourcePolicy = policy({
        Effect: "Allow",
        Principal: { Service: "s3.amazonaws.com" },
        Action: "lambda:InvokeFunction",
        Resource: "arn:aws:lambda:us-east-1:123456789012:function:processor",
        Condition: { ArnLike: { "AWS:SourceArn": BUCKET }, StringEquals: { "AWS:SourceAccount": ACCOUNT } },
      });
      const s3 = { service: "s3.amazonaws.com" };
      const fn = "arn:aws:lambda:us-east-1:123456789012:function:processor";
      assert.equal(
        decide("lambda:InvokeFunction", fn, {
          principal: s3,
          resourcePolicy,
          context: { "aws:SourceArn": [BUCKET], "aws:SourceAccount": [ACCOUNT] },
        }),
        "Allow",
      );
      assert.equal(
        decide("lambda:InvokeFunction", fn, {
          principal: s3,
          resourcePolicy,
          context: { "aws:SourceArn": ["arn:aws:s3:::other"], "aws:SourceAccount": [ACCOUNT] },
        }),
        "ImplicitDeny",
      );
      assert.equal(
        decide("lambda:InvokeFunction", fn, {
          principal: { service: "sns.amazonaws.com" },
          resourcePolicy,
          context: { "aws:SourceArn": [BUCKET] },
        }),
        "ImplicitDeny",
      );
    });
  });

  describe("Action, NotAction, Resource, NotResource", () => {
    it("matches actions case-insensitively, with * and ? wildcards", () => {
      const identity = policy({ Effect: "Allow", Action: ["S3:get*", "states:SendTask???????"], Resource: "*" });
      assert.equal(decide("s3:GetObject", `${BUCKET}/a`, { identity }), "Allow");
      assert.equal(decide("states:SendTaskFailure", "arn:aws:states:us-east-1:123456789012:stateMachine:m", { identity }), "Allow");
      assert.equal(
        decide("states:SendTaskHeartbeat", "arn:aws:states:us-east-1:123456789012:stateMachine:m", { identity }),
        "ImplicitDeny",
      );
    });

    it("allows every action but the ones NotAction names, and only on the named resources", () => {
      const identity = policy({ Effect: "Allow", NotAction: "iam:*", Resource: `${BUCKET}/*` });
      assert.equal(decide("s3:PutObject", `${BUCKET}/x`, { identity }), "Allow");
      assert.equal(decide("iam:PassRole", `${BUCKET}/x`, { identity }), "ImplicitDeny");
      assert.equal(decide("s3:PutObject", "arn:aws:s3:::other/x", { identity }), "ImplicitDeny");
    });

    it("denies with NotResource everywhere except the resources it names", () => {
      const identity = policy(
        { Effect: "Allow", Action: "s3:GetObject", Resource: "*" },
        { Effect: "Deny", Action: "s3:GetObject", NotResource: `${BUCKET}/public/*` },
      );
      assert.equal(decide("s3:GetObject", `${BUCKET}/public/a`, { identity }), "Allow");
      assert.equal(decide("s3:GetObject", `${BUCKET}/private/a`, { identity }), "ExplicitDeny");
    });

    it("matches ARN patterns segment by segment: a prefix wildcard covers deeper keys, not other buckets or regions", () => {
      assert.ok(matchesArn("arn:aws:s3:::docs/chunks/*", "arn:aws:s3:::docs/chunks/job/1.txt"));
      assert.ok(!matchesArn("arn:aws:s3:::docs/chunks/*", "arn:aws:s3:::docs/documents/1.txt"));
      assert.ok(
        matchesArn("arn:aws:states:*:123456789012:stateMachine:pipe-*", "arn:aws:states:eu-west-1:123456789012:stateMachine:pipe-1"),
      );
      assert.ok(
        !matchesArn("arn:aws:states:us-*:123456789012:stateMachine:*", "arn:aws:states:eu-west-1:123456789012:stateMachine:pipe-1"),
      );
      assert.ok(!matchesArn("arn:aws:lambda:us-east-1:123456789012:function:fn", "arn:aws:lambda:us-east-1:123456789012:function:fn:1"));
      assert.ok(matchesArn("arn:aws:lambda:us-east-1:123456789012:function:fn:*", "arn:aws:lambda:us-east-1:123456789012:function:fn:1"));
    });
  });

  describe("conditions", () => {
    const allowIf = (Condition: PolicyStatement["Condition"]) =>
      policy({ Effect: "Allow", Action: "s3:ListBucket", Resource: BUCKET, Condition });
    const list = (identity: SourcedStatement[], context: Record<string, string[]> = {}) =>
      decide("s3:ListBucket", BUCKET, { identity, context });

    it("treats the values of one key as alternatives and every key and operator as required", () => {
      const identity = allowIf({
        StringEquals: { "s3:prefix": ["chunks/", "documents/"], "s3:delimiter": "/" },
        StringLike: { "aws:userid": "*:fn" },
      });
      assert.equal(list(identity, { "s3:prefix": ["documents/"], "s3:delimiter": ["/"], "aws:userid": ["AROA:fn"] }), "Allow");
      assert.equal(list(identity, { "s3:prefix": ["results/"], "s3:delimiter": ["/"], "aws:userid": ["AROA:fn"] }), "ImplicitDeny");
      assert.equal(list(identity, { "s3:prefix": ["documents/"], "aws:userid": ["AROA:fn"] }), "ImplicitDeny");
    });

    it("lets a positive operator fail and a negated one hold when the key is absent; IfExists holds when absent", () => {
      assert.equal(list(allowIf({ StringEquals: { "s3:prefix": "a/" } })), "ImplicitDeny");
      assert.equal(list(allowIf({ StringNotEquals: { "s3:prefix": "a/" } })), "Allow");
      assert.equal(list(allowIf({ StringEqualsIfExists: { "s3:prefix": "a/" } })), "Allow");
      assert.equal(list(allowIf({ StringEqualsIfExists: { "s3:prefix": "a/" } }), { "s3:prefix": ["b/"] }), "ImplicitDeny");
    });

    it("checks presence with Null", () => {
      assert.equal(list(allowIf({ Null: { "s3:prefix": "true" } })), "Allow");
      assert.equal(list(allowIf({ Null: { "s3:prefix": "false" } })), "ImplicitDeny");
      assert.equal(list(allowIf({ Null: { "s3:prefix": "false" } }), { "s3:prefix": ["x"] }), "Allow");
    });

    it("compares numbers, dates, booleans, IP ranges and ARNs", () => {
      assert.equal(list(allowIf({ NumericLessThanEquals: { "s3:max-keys": "10" } }), { "s3:max-keys": ["10"] }), "Allow");
      assert.equal(list(allowIf({ NumericLessThanEquals: { "s3:max-keys": "10" } }), { "s3:max-keys": ["11"] }), "ImplicitDeny");
      assert.equal(
        list(allowIf({ DateLessThan: { "aws:CurrentTime": "2030-01-01T00:00:00Z" } }), { "aws:CurrentTime": ["2026-11-27T06:00:00Z"] }),
        "Allow",
      );
      assert.equal(
        list(allowIf({ DateGreaterThan: { "aws:EpochTime": "1893456000" } }), { "aws:EpochTime": ["1795000000"] }),
        "ImplicitDeny",
      );
      assert.equal(list(allowIf({ Bool: { "aws:SecureTransport": "false" } }), { "aws:SecureTransport": ["false"] }), "Allow");
      assert.equal(list(allowIf({ IpAddress: { "aws:SourceIp": "127.0.0.0/8" } }), { "aws:SourceIp": ["127.0.0.1"] }), "Allow");
      assert.equal(list(allowIf({ NotIpAddress: { "aws:SourceIp": "10.0.0.0/8" } }), { "aws:SourceIp": ["127.0.0.1"] }), "Allow");
      assert.equal(
        list(allowIf({ ArnLike: { "aws:PrincipalArn": "arn:aws:iam::*:role/work*" } }), { "aws:PrincipalArn": [ROLE] }),
        "Allow",
      );
      assert.equal(list(allowIf({ ArnNotEquals: { "aws:PrincipalArn": ROLE } }), { "aws:PrincipalArn": [ROLE] }), "ImplicitDeny");
    });

    it("applies ForAllValues to every request value (vacuously true when there are none) and ForAnyValue to at least one", () => {
      const all = allowIf({ "ForAllValues:StringEquals": { "dynamodb:Attributes": ["jobId", "sk"] } });
      assert.equal(list(all, { "dynamodb:Attributes": ["jobId", "sk"] }), "Allow");
      assert.equal(list(all, { "dynamodb:Attributes": ["jobId", "secret"] }), "ImplicitDeny");
      assert.equal(list(all), "Allow");
      const any = allowIf({ "ForAnyValue:StringEquals": { "dynamodb:Attributes": ["secret"] } });
      assert.equal(list(any, { "dynamodb:Attributes": ["jobId", "secret"] }), "Allow");
      assert.equal(list(any), "ImplicitDeny");
    });

    it("substitutes policy variables in Resource and condition values of 2012-10-17 policies", () => {
      const identity = policy({ Effect: "Allow", Action: "s3:GetObject", Resource: `${BUCKET}/\${aws:PrincipalAccount}/*` });
      assert.equal(decide("s3:GetObject", `${BUCKET}/${ACCOUNT}/a`, { identity, context: { "aws:PrincipalAccount": [ACCOUNT] } }), "Allow");
      assert.equal(
        decide("s3:GetObject", `${BUCKET}/999999999999/a`, { identity, context: { "aws:PrincipalAccount": [ACCOUNT] } }),
        "ImplicitDeny",
      );
      const oldVersion = readPolicy(
        {
          Version: "2008-10-17",
          Statement: [{ Effect: "Allow", Action: "s3:GetObject", Resource: `${BUCKET}/\${aws:PrincipalAccount}/*` }],
        },
        "old",
      );
      assert.equal(
        decide("s3:GetObject", `${BUCKET}/${ACCOUNT}/a`, { identity: oldVersion, context: { "aws:PrincipalAccount": [ACCOUNT] } }),
        "ImplicitDeny",
      );
    });
  });

  it("refuses, when it reads the policy, a condition operator IAM does not have (MalformedPolicyDocument), naming it and its statement", () => {
    const withCondition = (Condition: unknown) => ({ Statement: [{ Sid: "Scoped", Effect: "Allow", Action: "s3:*", Condition }] });
    assert.throws(() => readPolicy(withCondition({ StringEqualsX: { "aws:SourceAccount": "1" } }), 'role policy "p" of role r'), {
      name: "PolicyError",
      message:
        'role policy "p" of role r: MalformedPolicyDocument: Syntax errors in policy. Statement Scoped: unknown condition operator "StringEqualsX"',
    });
    assert.throws(() => readPolicy(withCondition({ "ForSomeValues:StringLike": { "s3:prefix": "a" } }), "p"), /"ForSomeValues:StringLike"/);
    // Names every object has are no operators (an Allow with one must not hold).
    for (const name of ["toString", "constructor", "hasOwnProperty", "ForAnyValue:valueOf"]) {
      assert.throws(
        () => readPolicy(withCondition({ [name]: { "aws:SourceAccount": "1" } }), "p"),
        new RegExp(`unknown condition operator "${name}"`),
      );
    }
    assert.throws(
      () => readPolicy(withCondition({ StringEquals: "aws:SourceAccount" }), "p"),
      /condition operator "StringEquals" needs an object/,
    );
    // Every qualifier, IfExists suffix, negation and Null is an operator IAM knows.
    const known = {
      "ForAllValues:StringNotLikeIfExists": { k: "v" },
      "ForAnyValue:ArnLike": { k: "v" },
      Null: { k: "true" },
      BoolIfExists: { k: "true" },
    };
    assert.equal(readPolicy(withCondition(known), "p").length, 1);
  });

  it("refuses a policy without Effect or with both Action and NotAction, naming the statement", () => {
    assert.throws(() => readPolicy({ Statement: [{ Sid: "A", Action: "s3:*" }] }, "p"), /statement A has Effect undefined/);
    assert.throws(
      () => readPolicy({ Statement: [{ Effect: "Allow", Action: "s3:*", NotAction: "iam:*" }] }, "p"),
      /exactly one of Action and NotAction/,
    );
  });
});
