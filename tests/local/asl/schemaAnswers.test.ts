/**
 * asl-validator's answers kept on disk (what makes a warm start skip ajv): found again when only the runtime's
 * origin changed (another port), with the origin of this run in what they report.
 */
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { DefinitionError, keepSchemaAnswersIn, validateDefinition } from "../../../local/stepfunctions/asl/validate";

/** A definition naming a queue URL on `origin`; `marker` keeps it apart from every other test's (the in-memory cache). */
const definitionOn = (origin: string, marker: string) =>
  JSON.stringify({
    Comment: marker,
    StartAt: "Send",
    States: {
      Send: {
        Type: "Task",
        Resource: "arn:aws:states:::sqs:sendMessage",
        Parameters: { QueueUrl: `${origin}/123456789012/work`, MessageBody: "hi" },
        End: true,
      },
    },
  });

describe("asl-validator answers kept on disk", () => {
  let directory: string;

  beforeEach(() => (directory = fs.mkdtempSync(path.join(os.tmpdir(), "schema-answers-"))));
  afterEach(() => {
    keepSchemaAnswersIn(undefined);
    fs.rmSync(directory, { recursive: true, force: true });
  });

  it("finds the answer kept on another port, and reports this run's origin in it", () => {
    const marker = randomUUID();
    keepSchemaAnswersIn(directory, "http://127.0.0.1:1111");
    validateDefinition(definitionOn("http://127.0.0.1:1111", marker));
    const kept = fs.readdirSync(directory);
    assert.equal(kept.length, 1, "one answer kept");
    // What asl-validator answered is replaced by a made-up error naming the (generalised) origin: if the next
    // run reads it, the error shows, with the next run's origin.
    fs.writeFileSync(
      path.join(directory, kept[0]),
      JSON.stringify([{ "Error code": "SCHEMA_VALIDATION_FAILED", Message: "kept answer about {{run-variable}}/123456789012/work" }]),
    );

    keepSchemaAnswersIn(directory, "http://127.0.0.1:2222");
    assert.throws(
      () => validateDefinition(definitionOn("http://127.0.0.1:2222", marker)),
      (error: unknown) =>
        error instanceof DefinitionError &&
        error.message.includes("SCHEMA_VALIDATION_FAILED: kept answer about http://127.0.0.1:2222/123456789012/work"),
    );
    assert.deepEqual(fs.readdirSync(directory), kept, "nothing new was kept: the answer was found");
  });

  it("keeps a separate answer for a definition that differs in more than the origin", () => {
    const marker = randomUUID();
    keepSchemaAnswersIn(directory, "http://127.0.0.1:1111");
    validateDefinition(definitionOn("http://127.0.0.1:1111", marker));
    keepSchemaAnswersIn(directory, "http://127.0.0.1:2222");
    validateDefinition(definitionOn("http://127.0.0.1:2222", `${marker} edited`));
    assert.equal(fs.readdirSync(directory).length, 2);
  });
});
