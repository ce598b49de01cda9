/**
 * IAM's one policy parser as SQS and SNS use it for a Policy set through their APIs (readResourcePolicy): what
 * makes a document no policy, and the counts the services' quotas are about.
 */
import * as assert from "node:assert/strict";
import { readPolicy, readResourcePolicy } from "../../../local/iam/policy";

const QUEUE = "arn:aws:sqs:us-east-1:123456789012:jobs";
const statement = {
  Sid: "FromTopic",
  Effect: "Allow",
  Principal: { Service: "sns.amazonaws.com" },
  Action: "sqs:SendMessage",
  Resource: QUEUE,
};
const policyWith = (...statements: unknown[]) => JSON.stringify({ Version: "2012-10-17", Statement: statements });
const problemOf = (text: string) => {
  const reading = readResourcePolicy(text, "policy of queue jobs");
  assert.ok("problem" in reading, `expected ${text} to be refused`);
  return reading.problem;
};

describe("resource policies set through SQS's and SNS's APIs (readResourcePolicy)", () => {
  it("reads a valid policy into its statements' action counts", () => {
    const reading = readResourcePolicy(
      policyWith(statement, { ...statement, Sid: "Two", Action: ["sqs:ReceiveMessage", "sqs:DeleteMessage"], Principal: "*" }),
      "p",
    );
    assert.deepEqual(reading, { statements: [{ actions: 1 }, { actions: 2 }] });
  });

  it("refuses text that is not JSON, naming the parser's complaint", () => {
    assert.match(problemOf("{not json"), /^policy of queue jobs: not valid JSON \(/);
  });

  it("refuses JSON that is no policy document: an array, a string, null, no Statement, an unknown element, an unknown Version", () => {
    for (const text of ["[]", '"policy"', "null", "42", JSON.stringify({ Version: "2012-10-17" })])
      assert.equal(problemOf(text), "policy of queue jobs: a policy document needs a Statement");
    assert.equal(
      problemOf(JSON.stringify({ Statement: [statement], Extra: 1 })),
      'policy of queue jobs: unknown policy element "Extra" (Version, Id, Statement)',
    );
    assert.equal(
      problemOf(JSON.stringify({ Version: "2020-01-01", Statement: [statement] })),
      'policy of queue jobs: Version "2020-01-01" is not a policy language version (2012-10-17 or 2008-10-17)',
    );
  });

  it("refuses an empty Statement list and a statement that is not an object", () => {
    assert.equal(problemOf(policyWith()), "policy of queue jobs: the Statement list is empty");
    assert.equal(problemOf(policyWith("allow all")), 'policy of queue jobs: statement 0 is "allow all", not an object');
  });

  it("refuses a statement with a bad Effect, no Action, or an element of the wrong shape, naming the statement", () => {
    assert.equal(
      problemOf(policyWith({ ...statement, Effect: "Allowed" })),
      'policy of queue jobs: statement FromTopic has Effect "Allowed" (Allow or Deny)',
    );
    assert.equal(
      problemOf(policyWith({ ...statement, Action: undefined })),
      "policy of queue jobs: statement FromTopic needs exactly one of Action and NotAction",
    );
    assert.match(
      problemOf(policyWith({ ...statement, Action: 42 })),
      /statement FromTopic has Action 42 \(a string or a non-empty list of strings\)/,
    );
    assert.match(problemOf(policyWith({ ...statement, Action: [] })), /statement FromTopic has Action \[\]/);
    assert.match(problemOf(policyWith({ ...statement, Action: "SendMessage" })), /has Action "SendMessage" \(an action is "service:Name"/);
    assert.match(problemOf(policyWith({ ...statement, Resource: { arn: QUEUE } })), /statement FromTopic has Resource \{"arn":/);
    assert.match(problemOf(policyWith({ ...statement, Principal: ["*"] })), /statement FromTopic has Principal \["\*"\]/);
    assert.match(problemOf(policyWith({ ...statement, Principal: { Robot: "me" } })), /statement FromTopic has Principal \{"Robot":"me"\}/);
    assert.match(problemOf(policyWith({ ...statement, Principal: { AWS: 123 } })), /statement FromTopic has Principal \{"AWS":123\}/);
    assert.match(problemOf(policyWith({ ...statement, Effects: "Allow" })), /statement FromTopic has an unknown element "Effects"/);
  });

  it("refuses a statement that names no Principal: a resource-based policy must say whom it is for", () => {
    const { Principal: _principal, ...unaddressed } = statement;
    assert.equal(
      problemOf(policyWith(unaddressed)),
      'policy of queue jobs, statement "FromTopic" needs a Principal (a resource-based policy names whom it allows or denies)',
    );
  });

  it("keeps identity policies (no Principal) readable as before", () => {
    const { Principal: _principal, ...identity } = statement;
    assert.equal(readPolicy(policyWith(identity), "role policy").length, 1);
  });
});
