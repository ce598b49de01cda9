import * as assert from "node:assert/strict";
import { parseQueryForm } from "../../../local/common/awsQuery";
import { passesFilter } from "../../../local/sns/filterPolicy";
import { queryInput, queryResult } from "../../../local/sns/wire";

describe("local SNS: filter policies and the query protocol", () => {
  const attributes = { colour: { DataType: "String", StringValue: "red" }, size: { DataType: "Number", StringValue: "12" } };

  it("delivers every message when a subscription has no filter policy", () => {
    assert.equal(passesFilter(undefined, undefined, {}, "m"), true);
  });

  it("requires every key of a policy to match one of its values (exact, prefix, anything-but, numeric, exists)", () => {
    assert.equal(passesFilter(JSON.stringify({ colour: ["blue", "red"] }), undefined, attributes, "m"), true);
    assert.equal(passesFilter(JSON.stringify({ colour: ["blue"] }), undefined, attributes, "m"), false);
    assert.equal(
      passesFilter(JSON.stringify({ colour: [{ prefix: "re" }], size: [{ numeric: [">", 10, "<=", 12] }] }), undefined, attributes, "m"),
      true,
    );
    assert.equal(passesFilter(JSON.stringify({ size: [{ numeric: [">", 12] }] }), undefined, attributes, "m"), false);
    assert.equal(passesFilter(JSON.stringify({ colour: [{ "anything-but": ["red"] }] }), undefined, attributes, "m"), false);
    assert.equal(passesFilter(JSON.stringify({ shape: [{ exists: false }] }), undefined, attributes, "m"), true);
    assert.equal(passesFilter(JSON.stringify({ shape: [{ exists: true }] }), undefined, attributes, "m"), false);
  });

  it("matches the top-level keys of a JSON body with FilterPolicyScope MessageBody", () => {
    assert.equal(passesFilter(JSON.stringify({ kind: ["order"] }), "MessageBody", {}, '{"kind":"order"}'), true);
    assert.equal(passesFilter(JSON.stringify({ kind: ["order"] }), "MessageBody", {}, "not json"), false);
  });

  it("reads maps from entry.N.key/value (and message attributes from .Name/.Value) and lists from member.N", () => {
    const form = parseQueryForm(
      "Action=PublishBatch&TopicArn=t&PublishBatchRequestEntries.member.1.Id=a&PublishBatchRequestEntries.member.1.Message=m" +
        "&PublishBatchRequestEntries.member.1.MessageAttributes.entry.1.Name=k&PublishBatchRequestEntries.member.1.MessageAttributes.entry.1.Value.DataType=String" +
        "&PublishBatchRequestEntries.member.1.MessageAttributes.entry.1.Value.StringValue=v&Attributes.entry.1.key=RawMessageDelivery&Attributes.entry.1.value=true",
    );
    assert.deepEqual(queryInput(form), {
      Action: "PublishBatch",
      TopicArn: "t",
      PublishBatchRequestEntries: [{ Id: "a", Message: "m", MessageAttributes: { k: { DataType: "String", StringValue: "v" } } }],
      Attributes: { RawMessageDelivery: "true" },
    });
  });

  it("writes lists as members and the Attributes map as entries", () => {
    assert.deepEqual(queryResult({ Topics: [{ TopicArn: "a" }], Attributes: { Owner: "1" } }), {
      Topics: { member: [{ TopicArn: "a" }] },
      Attributes: { entry: [{ key: "Owner", value: "1" }] },
    });
  });
});
