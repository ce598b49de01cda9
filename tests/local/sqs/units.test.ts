import * as assert from "node:assert/strict";
import { parseQueryForm } from "../../../local/common/awsQuery";
import { md5Hex, md5OfMessageAttributes } from "../../../local/sqs/md5";
import { queryInput, queryResult } from "../../../local/sqs/wire";

describe("local SQS: digests and the query protocol", () => {
  it("computes MD5OfMessageAttributes with SQS's length-prefixed encoding (a receive answer's {Hello, General} vector)", () => {
    const attributes = { Hello: { DataType: "String", StringValue: "There" }, General: { DataType: "String", StringValue: "Kenobi" } };
    assert.equal(md5OfMessageAttributes(attributes), "fca026605781cb4126a1e9044df24232");
    assert.equal(md5Hex("x".repeat(262_144)), "1566aa66d825eb4354d3e9533b753995");
  });

  it("orders attributes by name and marks binary values with transport byte 2, so order of entry does not matter", () => {
    const a = md5OfMessageAttributes({
      b: { DataType: "Binary", BinaryValue: Buffer.from([1]) },
      a: { DataType: "Number", StringValue: "1" },
    });
    const b = md5OfMessageAttributes({
      a: { DataType: "Number", StringValue: "1" },
      b: { DataType: "Binary", BinaryValue: Buffer.from([1]) },
    });
    assert.equal(a, b);
    assert.notEqual(
      a,
      md5OfMessageAttributes({ a: { DataType: "Number", StringValue: "1" }, b: { DataType: "String", StringValue: "\u0001" } }),
    );
  });

  it("turns the CLI's flattened form into the JSON protocol's shapes", () => {
    const form = parseQueryForm(
      "Action=SendMessageBatch&QueueUrl=u&SendMessageBatchRequestEntry.1.Id=a&SendMessageBatchRequestEntry.1.MessageBody=x" +
        "&SendMessageBatchRequestEntry.1.MessageAttribute.1.Name=k&SendMessageBatchRequestEntry.1.MessageAttribute.1.Value.DataType=String" +
        "&SendMessageBatchRequestEntry.1.MessageAttribute.1.Value.StringValue=v&SendMessageBatchRequestEntry.2.Id=b&SendMessageBatchRequestEntry.2.MessageBody=y",
    );
    assert.deepEqual(queryInput(form), {
      QueueUrl: "u",
      Entries: [
        { Id: "a", MessageBody: "x", MessageAttributes: { k: { DataType: "String", StringValue: "v" } } },
        { Id: "b", MessageBody: "y" },
      ],
    });
    assert.deepEqual(
      queryInput(
        parseQueryForm("Action=CreateQueue&QueueName=q&Attribute.1.Name=VisibilityTimeout&Attribute.1.Value=7&AttributeName.1=All"),
      ),
      {
        QueueName: "q",
        Attributes: { VisibilityTimeout: "7" },
        AttributeNames: ["All"],
      },
    );
  });

  it("writes lists and attribute maps flattened, as SQS's XML does", () => {
    assert.deepEqual(queryResult("GetQueueAttributes", { Attributes: { A: "1" } }), { Attribute: [{ Name: "A", Value: "1" }] });
    assert.deepEqual(queryResult("ListQueues", { QueueUrls: ["u1", "u2"] }), { QueueUrl: ["u1", "u2"], NextToken: undefined });
    assert.equal(queryResult("DeleteMessage", {}), undefined);
  });
});
