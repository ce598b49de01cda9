import assert from "node:assert/strict";
import { DefinitionError, validateDefinition, type ValidateOptions } from "../../../local/stepfunctions/asl/validate";

const WORKER_ARN = "arn:aws:lambda:us-east-1:123456789012:function:worker-3f2a1b";
const WAIT_FOR_TOKEN = "arn:aws:states:::lambda:invoke.waitForTaskToken";
const localResources: ValidateOptions = {
  supportedResource: (arn) => arn.startsWith("arn:aws:states:::lambda:invoke") || arn.startsWith("arn:aws:lambda:"),
};

/** The project's callback workflow, in the shape the component builds it. */
function callbackDefinition(): Record<string, any> {
  return {
    Comment: "Callback pattern",
    StartAt: "WaitForCompletion",
    States: {
      WaitForCompletion: {
        Type: "Task",
        Resource: WAIT_FOR_TOKEN,
        Parameters: { FunctionName: WORKER_ARN, Payload: { "taskToken.$": "$$.Task.Token", "input.$": "$" } },
        TimeoutSeconds: 600,
        HeartbeatSeconds: 60,
        Retry: [
          {
            ErrorEquals: ["Lambda.ServiceException", "Lambda.TooManyRequestsException"],
            IntervalSeconds: 1,
            MaxAttempts: 3,
            BackoffRate: 2,
          },
        ],
        Catch: [
          { ErrorEquals: ["ProcessingFailed"], ResultPath: "$.error", Next: "ProcessingFailed" },
          { ErrorEquals: ["States.Timeout"], Next: "TimedOut" },
          { ErrorEquals: ["States.ALL"], Next: "UnexpectedFailure" },
        ],
        Next: "ContinueProcess",
      },
      ContinueProcess: { Type: "Pass", End: true },
      ProcessingFailed: { Type: "Fail", Error: "ProcessingFailed", CausePath: "$.error.Cause" },
      TimedOut: { Type: "Fail", Error: "TimedOut" },
      UnexpectedFailure: { Type: "Fail", Error: "UnexpectedFailure" },
    },
  };
}

/** The kind of the DefinitionError a definition raises. */
function kindOfError(definition: unknown): string {
  try {
    validateDefinition(JSON.stringify(definition), localResources);
  } catch (error) {
    assert.ok(error instanceof DefinitionError, `expected a DefinitionError, got ${String(error)}`);
    return error.kind;
  }
  assert.fail("expected the definition to be refused");
}

function problemsOf(definition: unknown, options: ValidateOptions = localResources): string[] {
  try {
    validateDefinition(typeof definition === "string" ? definition : JSON.stringify(definition), options);
  } catch (error) {
    assert.ok(error instanceof DefinitionError, `expected a DefinitionError, got ${String(error)}`);
    return error.problems;
  }
  return [];
}

/** A one-state machine around `state`, for rules about a single state. */
function machineWith(state: Record<string, unknown>): Record<string, unknown> {
  return { StartAt: "Only", States: { Only: { End: true, ...state } } };
}

describe("asl/validate", () => {
  describe("accepted definitions", () => {
    it("accepts the callback workflow and returns it exactly as written", () => {
      const definition = callbackDefinition();
      const result = validateDefinition(JSON.stringify(definition), localResources);
      assert.deepEqual(result.definition, definition);
      assert.equal("QueryLanguage" in result.definition.States.WaitForCompletion, false, "asl-validator's defaults do not leak");
    });

    it("accepts every state type the local engine runs", () => {
      const definition = {
        StartAt: "Pass",
        States: {
          Pass: { Type: "Pass", Result: { a: 1 }, ResultPath: "$.pass", Next: "Choice" },
          Choice: {
            Type: "Choice",
            Choices: [{ Variable: "$.pass.a", NumericEquals: 1, Next: "Wait" }],
            Default: "Fail",
          },
          Wait: { Type: "Wait", Seconds: 1, Next: "Parallel" },
          Parallel: {
            Type: "Parallel",
            Branches: [{ StartAt: "Inner", States: { Inner: { Type: "Succeed" } } }],
            ResultSelector: { "first.$": "$[0]" },
            Next: "Map",
          },
          Map: {
            Type: "Map",
            ItemsPath: "$.items",
            MaxConcurrency: 2,
            ItemSelector: { "value.$": "$$.Map.Item.Value", "index.$": "$$.Map.Item.Index" },
            ItemProcessor: { ProcessorConfig: { Mode: "INLINE" }, StartAt: "Each", States: { Each: { Type: "Pass", End: true } } },
            Next: "Task",
          },
          Task: { Type: "Task", Resource: WORKER_ARN, Parameters: { "msg.$": "States.Format('n={}', $.n)" }, Next: "Done" },
          Done: { Type: "Succeed" },
          Fail: { Type: "Fail", Error: "NoMatch" },
        },
      };
      assert.deepEqual(problemsOf(definition), []);
    });

    it("accepts a token passed inside an intrinsic function or nested in the payload", () => {
      const insideIntrinsic = machineWith({
        Type: "Task",
        Resource: WAIT_FOR_TOKEN,
        Parameters: { FunctionName: WORKER_ARN, Payload: { "message.$": "States.Format('token={}', $$.Task.Token)" } },
      });
      assert.deepEqual(problemsOf(insideIntrinsic), []);
    });

    it("accepts AWS's own States.* error names", () => {
      const definition = callbackDefinition();
      definition.States.WaitForCompletion.Retry = [{ ErrorEquals: ["States.TaskFailed", "States.Timeout", "States.Permissions"] }];
      assert.deepEqual(problemsOf(definition), []);
    });
  });

  describe("syntax and schema", () => {
    it("reports a JSON syntax error as AWS's INVALID_JSON_DESCRIPTION", () => {
      const problems = problemsOf('{"StartAt": "A",');
      assert.equal(problems.length, 1);
      assert.match(problems[0], /^INVALID_JSON_DESCRIPTION: /);
    });

    it("rejects JSON that is not an object", () => {
      assert.deepEqual(problemsOf("[1]"), ["SCHEMA_VALIDATION_FAILED: the definition must be a JSON object, received [1]"]);
    });

    it("reports asl-validator's schema errors (an unknown state type)", () => {
      const problems = problemsOf(machineWith({ Type: "Sleep" }));
      assert.ok(
        problems.some((problem) => /^SCHEMA_VALIDATION_FAILED: The field 'Type' is invalid: .* at \/States\/Only\/Type$/.test(problem)),
        problems.join("\n"),
      );
      assert.ok(!problems.some((problem) => /QueryLanguage/.test(problem)), "asl-validator's injected QueryLanguage is not reported");
    });

    it("reports the schema errors of several states, nested ones and top-level fields at once", () => {
      const problems = problemsOf({
        StartAt: "A",
        TimeoutSeconds: "soon",
        States: {
          A: { Type: "Wait", Seconds: "ten", Next: "B" },
          B: {
            Type: "Parallel",
            Branches: [{ StartAt: "Inner", States: { Inner: { Type: "Pass", InputPath: 5, End: true } } }],
            Next: "C",
          },
          C: { Type: "Pass", ResultPath: 7, Next: "D" },
          D: {
            Type: "Map",
            ItemProcessor: { StartAt: "E", States: { E: { Type: "Pass", OutputPath: 3, End: true } } },
            MaxConcurrency: -1,
            End: true,
          },
        },
      });
      assert.ok(!problems.some((problem) => /\/Type is invalid/.test(problem)), `valid Types are not reported:\n${problems.join("\n")}`);
      for (const pointer of [
        "/States/A/Seconds",
        "/States/B/Branches/0/States/Inner/InputPath",
        "/States/C/ResultPath",
        "/States/D/ItemProcessor/States/E/OutputPath",
        "/States/D/MaxConcurrency",
        "/TimeoutSeconds",
      ]) {
        assert.ok(
          problems.some((problem) => problem.startsWith("SCHEMA_VALIDATION_FAILED: The field '") && problem.endsWith(` at ${pointer}`)),
          `missing ${pointer}:\n${problems.join("\n")}`,
        );
      }
    });

    it("reports a state machine without a terminal state", () => {
      const problems = problemsOf({ StartAt: "A", States: { A: { Type: "Pass", Next: "B" }, B: { Type: "Pass", Next: "A" } } });
      assert.ok(
        problems.some((problem) => problem.startsWith("MISSING_END_STATE: ")),
        problems.join("\n"),
      );
    });

    it("formats the error message the way AWS's InvalidDefinition does", () => {
      try {
        validateDefinition(JSON.stringify(machineWith({ Type: "Pass", Next: "Nowhere" })));
        assert.fail("expected a DefinitionError");
      } catch (error) {
        assert.ok(error instanceof DefinitionError);
        assert.equal(error.message, `Invalid State Machine Definition: '${error.problems.join(", ")}'`);
      }
    });
  });

  describe("transitions", () => {
    it("reports Next, Catch, Choice and Default targets that are not states as AWS's MISSING_TRANSITION_TARGET, each at its location", () => {
      const problems = problemsOf({
        StartAt: "Start",
        States: {
          Start: { Type: "Pass", Next: "Missing1" },
          Decide: { Type: "Choice", Choices: [{ Variable: "$.a", IsPresent: true, Next: "Missing2" }], Default: "Missing3" },
          Work: { Type: "Task", Resource: WORKER_ARN, Catch: [{ ErrorEquals: ["States.ALL"], Next: "Missing4" }], End: true },
        },
      });
      assert.ok(problems.includes("MISSING_TRANSITION_TARGET: Missing 'Next' target: Missing1 at /States/Start/Next"));
      assert.ok(problems.includes("MISSING_TRANSITION_TARGET: Missing 'Next' target: Missing2 at /States/Decide/Choices/0/Next"));
      assert.ok(problems.includes("MISSING_TRANSITION_TARGET: Missing 'Next' target: Missing3 at /States/Decide/Default"));
      assert.ok(problems.includes("MISSING_TRANSITION_TARGET: Missing 'Next' target: Missing4 at /States/Work/Catch/0/Next"));
    });

    it("reports a StartAt that is not a state", () => {
      assert.ok(
        problemsOf({ StartAt: "Nope", States: { A: { Type: "Succeed" } } }).includes(
          "MISSING_TRANSITION_TARGET: Missing 'Next' target: Nope at /StartAt",
        ),
      );
    });

    it("does not let a Parallel branch jump to a state outside the branch", () => {
      const problems = problemsOf({
        StartAt: "Fork",
        States: {
          Fork: { Type: "Parallel", Branches: [{ StartAt: "Inner", States: { Inner: { Type: "Pass", Next: "After" } } }], Next: "After" },
          After: { Type: "Succeed" },
        },
      });
      assert.ok(
        problems.includes("MISSING_TRANSITION_TARGET: Missing 'Next' target: After at /States/Fork/Branches/0/States/Inner/Next"),
        problems.join("\n"),
      );
    });
  });

  describe("AWS rules asl-validator does not check", () => {
    it("rejects a Wait Timestamp literal that is not RFC 3339 with AWS's SCHEMA_VALIDATION_FAILED message and location", () => {
      for (const timestamp of ["2024-01-01", "2024-01-01 10:00:00Z", "2024-01-01T10:00:00", "2024-02-30T10:00:00Z"]) {
        assert.deepEqual(problemsOf(machineWith({ Type: "Wait", Timestamp: timestamp })), [
          "SCHEMA_VALIDATION_FAILED: String does not match RFC3339 timestamp at /States/Only/Timestamp",
        ]);
      }
      assert.deepEqual(problemsOf(machineWith({ Type: "Wait", Timestamp: "2024-01-01T10:00:00.5+02:00" })), []);
      assert.deepEqual(problemsOf({ QueryLanguage: "JSONata", ...machineWith({ Type: "Wait", Timestamp: "{% $states.input.at %}" }) }), []);
    });

    it("requires States.ALL to be alone in its ErrorEquals", () => {
      const definition = callbackDefinition();
      definition.States.WaitForCompletion.Catch[2].ErrorEquals = ["States.ALL", "Other"];
      assert.deepEqual(problemsOf(definition), [
        "SCHEMA_VALIDATION_FAILED: States.ALL must be the only error name in its ErrorEquals at /States/WaitForCompletion/Catch/2/ErrorEquals/0",
      ]);
    });

    it("requires the States.ALL retrier and catcher to be the last one", () => {
      const definition = callbackDefinition();
      definition.States.WaitForCompletion.Catch.reverse();
      definition.States.WaitForCompletion.Retry.unshift({ ErrorEquals: ["States.ALL"] });
      assert.deepEqual(problemsOf(definition), [
        "SCHEMA_VALIDATION_FAILED: The retrier with States.ALL must be the last one at /States/WaitForCompletion/Retry/0",
        "SCHEMA_VALIDATION_FAILED: The catcher with States.ALL must be the last one at /States/WaitForCompletion/Catch/0",
      ]);
    });

    it("rejects custom error names starting with States.", () => {
      const definition = callbackDefinition();
      definition.States.WaitForCompletion.Catch[0].ErrorEquals = ["States.ProcessingFailed"];
      assert.deepEqual(problemsOf(definition), [
        "SCHEMA_VALIDATION_FAILED: 'States.ProcessingFailed' is not a Step Functions error; names starting with 'States.' are reserved at /States/WaitForCompletion/Catch/0/ErrorEquals/0",
      ]);
    });

    it("requires HeartbeatSeconds to be smaller than TimeoutSeconds", () => {
      const definition = callbackDefinition();
      definition.States.WaitForCompletion.HeartbeatSeconds = 900;
      assert.deepEqual(problemsOf(definition), [
        "SCHEMA_VALIDATION_FAILED: HeartbeatSeconds (900) must be smaller than TimeoutSeconds (600) at /States/WaitForCompletion/HeartbeatSeconds",
      ]);
      definition.States.WaitForCompletion.HeartbeatSeconds = 600;
      assert.deepEqual(problemsOf(definition), [
        "SCHEMA_VALIDATION_FAILED: HeartbeatSeconds (600) must be smaller than TimeoutSeconds (600) at /States/WaitForCompletion/HeartbeatSeconds",
      ]);
    });

    it("compares HeartbeatSeconds with AWS's default TimeoutSeconds of 99,999,999 when none is given", () => {
      const definition = callbackDefinition();
      delete definition.States.WaitForCompletion.TimeoutSeconds;
      assert.deepEqual(problemsOf(definition), []);
      definition.States.WaitForCompletion.HeartbeatSeconds = 99_999_999;
      assert.deepEqual(problemsOf(definition), [
        "SCHEMA_VALIDATION_FAILED: HeartbeatSeconds (99999999) must be smaller than TimeoutSeconds (99999999, AWS's default) at /States/WaitForCompletion/HeartbeatSeconds",
      ]);
    });

    it("fails when a waitForTaskToken payload does not reference $$.Task.Token", () => {
      const definition = callbackDefinition();
      definition.States.WaitForCompletion.Parameters.Payload = { "input.$": "$", note: "$$.Task.Token is only text here" };
      assert.deepEqual(problemsOf(definition), [
        "SCHEMA_VALIDATION_FAILED: A .waitForTaskToken task must pass the token: reference $$.Task.Token (or $$.Task, or $$) in its Parameters at /States/WaitForCompletion/Parameters",
      ]);
    });

    it("accepts $$.Task and $$ as the token's carrier, as the AWS CDK does, and the token inside an intrinsic", () => {
      for (const payload of [{ "task.$": "$$.Task" }, { "context.$": "$$" }, { "m.$": "States.Format('t={}', $$.Task.Token)" }]) {
        const definition = callbackDefinition();
        definition.States.WaitForCompletion.Parameters.Payload = payload;
        assert.deepEqual(problemsOf(definition), [], JSON.stringify(payload));
      }
    });

    it("fails when a waitForTaskToken task has no Parameters at all", () => {
      const problems = problemsOf(machineWith({ Type: "Task", Resource: WAIT_FOR_TOKEN }));
      assert.ok(
        problems.includes(
          "SCHEMA_VALIDATION_FAILED: A .waitForTaskToken task must pass the token: reference $$.Task.Token (or $$.Task, or $$) in its Parameters at /States/Only/Parameters",
        ),
      );
    });

    it("rejects .waitForTaskToken in an EXPRESS state machine", () => {
      assert.deepEqual(problemsOf(callbackDefinition(), { ...localResources, stateMachineType: "EXPRESS" }), [
        "SCHEMA_VALIDATION_FAILED: EXPRESS state machines do not support the .waitForTaskToken integration pattern (use STANDARD) at /States/WaitForCompletion/Resource",
      ]);
    });

    it("checks intrinsic function syntax in every payload template, reporting each field once", () => {
      const problems = problemsOf(
        machineWith({
          Type: "Pass",
          Parameters: {
            "bad.$": "States.Format('{}', $.a",
            nested: [{ "unknown.$": "States.Shout($.a)" }],
            "arity.$": "States.ArrayLength($.a, 2)",
          },
        }),
      );
      assert.deepEqual(problems, [
        "SCHEMA_VALIDATION_FAILED: The value for the field 'bad.$' is not a valid intrinsic function call: expected ')' before the end (at character 24 of 'States.Format('{}', $.a') at /States/Only/Parameters/bad.$",
        "SCHEMA_VALIDATION_FAILED: The value for the field 'unknown.$' is not a valid intrinsic function call: unknown function States.Shout; supported: " +
          "States.Format, States.StringToJson, States.JsonToString, States.Array, States.ArrayPartition, States.ArrayContains, States.ArrayRange, " +
          "States.ArrayGetItem, States.ArrayLength, States.ArrayUnique, States.Base64Encode, States.Base64Decode, States.Hash, States.JsonMerge, " +
          "States.MathRandom, States.MathAdd, States.StringSplit, States.UUID (at character 1 of 'States.Shout($.a)') at /States/Only/Parameters/nested/0/unknown.$",
        "SCHEMA_VALIDATION_FAILED: The value for the field 'arity.$' is not a valid intrinsic function call: States.ArrayLength takes exactly 1 argument, received 2 (at character 1 of 'States.ArrayLength($.a, 2)') at /States/Only/Parameters/arity.$",
      ]);
    });

    it("reports a .$ field that holds neither a path nor an intrinsic function, once", () => {
      assert.deepEqual(problemsOf(machineWith({ Type: "Pass", ResultPath: "$.r", Parameters: { "count.$": 3 } })), [
        "SCHEMA_VALIDATION_FAILED: The value for the field 'count.$' must be a STRING holding a JSONPath or an intrinsic function call, received 3 at /States/Only/Parameters/count.$",
      ]);
      assert.deepEqual(
        problemsOf({ StartAt: "T", States: { T: { Type: "Task", Resource: WORKER_ARN, ResultSelector: { "x.$": "hello" }, End: true } } }),
        [
          "SCHEMA_VALIDATION_FAILED: The value for the field 'x.$' must be a valid JSONPath ($...) or intrinsic function call (States.Name(...)), received 'hello' at /States/T/ResultSelector/x.$",
        ],
      );
    });
  });

  describe("features the local runtime does not emulate", () => {
    it("names a Task resource the caller does not support", () => {
      const definition = machineWith({
        Type: "Task",
        Resource: "arn:aws:states:::ecs:runTask.sync",
        Parameters: { Cluster: "c", TaskDefinition: "t" },
      });
      assert.deepEqual(problemsOf(definition), [
        "INVALID_RESOURCE: The resource 'arn:aws:states:::ecs:runTask.sync' is not supported by the local runtime at /States/Only/Resource",
      ]);
    });

    it("calls a definition whose every problem is a missing local feature 'unsupported', and one with any other problem 'invalid'", () => {
      const ecs = { Type: "Task", Resource: "arn:aws:states:::ecs:runTask.sync", Parameters: { Cluster: "c", TaskDefinition: "t" } };
      assert.equal(kindOfError(machineWith(ecs)), "unsupported");
      assert.equal(
        kindOfError(machineWith({ Type: "Task", Resource: WORKER_ARN, Credentials: { RoleArn: "arn:aws:iam::123456789012:role/o" } })),
        "unsupported",
      );
      assert.equal(kindOfError({ StartAt: "Run", States: { Run: { ...ecs, Next: "Nowhere" } } }), "invalid");
      assert.equal(kindOfError({ StartAt: "Missing", States: { T: { Type: "Pass", End: true } } }), "invalid");
    });

    it("accepts any resource when no supportedResource callback is given", () => {
      const definition = machineWith({
        Type: "Task",
        Resource: "arn:aws:states:::ecs:runTask.sync",
        Parameters: { Cluster: "c", TaskDefinition: "t" },
      });
      assert.deepEqual(problemsOf(definition, {}), []);
    });

    it("accepts JSONata for the machine or one state, with Arguments, Output, Assign, Items and Conditions", () => {
      assert.deepEqual(
        problemsOf({
          QueryLanguage: "JSONata",
          StartAt: "Shape",
          States: {
            Shape: { Type: "Pass", Output: "{% $states.input %}", Assign: { total: "{% $sum($states.input.n) %}" }, Next: "Route" },
            Route: { Type: "Choice", Choices: [{ Condition: "{% $total > 1 %}", Assign: { big: true }, Next: "Each" }], Default: "Each" },
            Each: {
              Type: "Map",
              Items: "{% $states.input.items %}",
              ItemSelector: { value: "{% $states.context.Map.Item.Value %}" },
              MaxConcurrency: "{% 2 %}",
              ItemProcessor: { StartAt: "Item", States: { Item: { Type: "Pass", End: true } } },
              Next: "Call",
            },
            Call: {
              Type: "Task",
              Resource: WAIT_FOR_TOKEN,
              Arguments: { FunctionName: WORKER_ARN, Payload: { token: "{% $states.context.Task.Token %}" } },
              TimeoutSeconds: "{% 60 %}",
              Catch: [{ ErrorEquals: ["States.ALL"], Output: "{% $states.errorOutput %}", Next: "Stop" }],
              End: true,
            },
            Stop: { Type: "Fail", Error: "{% 'Failed' %}", Cause: "{% $string($states.input) %}" },
          },
        }),
        [],
      );
      assert.deepEqual(
        problemsOf({ StartAt: "A", States: { A: { Type: "Pass", QueryLanguage: "JSONata", Output: { a: "{% 1 %}" }, End: true } } }),
        [],
      );
    });

    it("rejects JSONPath fields in a JSONata state, with the field's location", () => {
      const problems = problemsOf({
        QueryLanguage: "JSONata",
        StartAt: "A",
        States: {
          A: { Type: "Pass", InputPath: "$.a", Parameters: { x: 1 }, Next: "B" },
          B: { Type: "Choice", Choices: [{ Variable: "$.x", IsPresent: true, Next: "A" }], Default: "A" },
        },
      });
      for (const expected of [
        "SCHEMA_VALIDATION_FAILED: The field 'InputPath' is not supported in JSONata states at /States/A/InputPath",
        "SCHEMA_VALIDATION_FAILED: The field 'Parameters' is not supported in JSONata states at /States/A/Parameters",
        "SCHEMA_VALIDATION_FAILED: A Choice rule of a JSONata state must have a Condition at /States/B/Choices/0",
        "SCHEMA_VALIDATION_FAILED: The field 'Variable' is not supported in JSONata states at /States/B/Choices/0/Variable",
      ]) {
        assert.ok(problems.includes(expected), `missing: ${expected}\n${problems.join("\n")}`);
      }
    });

    it("rejects JSONata fields in a JSONPath state, and a JSONPath state inside a JSONata machine", () => {
      assert.deepEqual(problemsOf(machineWith({ Type: "Pass", Output: { a: 1 } })), [
        "SCHEMA_VALIDATION_FAILED: The field 'Output' is supported only in JSONata states at /States/Only/Output",
      ]);
      assert.deepEqual(
        problemsOf({ QueryLanguage: "JSONata", StartAt: "A", States: { A: { Type: "Pass", QueryLanguage: "JSONPath", End: true } } }),
        [
          "SCHEMA_VALIDATION_FAILED: A state cannot set QueryLanguage to JSONPath when the state machine's QueryLanguage is JSONata at /States/A/QueryLanguage",
        ],
      );
    });

    it("rejects a JSONata expression that does not parse, when the definition is loaded", () => {
      const problems = problemsOf({
        QueryLanguage: "JSONata",
        StartAt: "A",
        States: { A: { Type: "Pass", Output: { a: "{% $states.input.( %}" }, End: true } },
      });
      assert.equal(problems.length, 1, problems.join("\n"));
      assert.match(
        problems[0],
        /^SCHEMA_VALIDATION_FAILED: The JSONata expression '\$states\.input\.\(' is not valid: .* at \/States\/A\/Output\/a$/,
      );
    });

    it("accepts Assign in JSONPath states and rejects invalid or reserved variable names", () => {
      assert.deepEqual(
        problemsOf(machineWith({ Type: "Pass", Assign: { "x.$": "$.a", count: 1, "text.$": "States.Format('{}', $x)" } })),
        [],
      );
      assert.deepEqual(problemsOf(machineWith({ Type: "Pass", Assign: { "1st": 1, states: 2, "ok-not": 3 } })), [
        "SCHEMA_VALIDATION_FAILED: The variable name '1st' is invalid: use letters, digits and underscores, not starting with a digit, at most 80 characters at /States/Only/Assign/1st",
        "SCHEMA_VALIDATION_FAILED: The variable name 'states' is reserved at /States/Only/Assign/states",
        "SCHEMA_VALIDATION_FAILED: The variable name 'ok-not' is invalid: use letters, digits and underscores, not starting with a digit, at most 80 characters at /States/Only/Assign/ok-not",
      ]);
    });

    it("accepts paths that read workflow variables ($name), wherever a path may appear", () => {
      const problems = problemsOf({
        StartAt: "Decide",
        States: {
          Decide: {
            Type: "Choice",
            Choices: [
              {
                And: [
                  { Variable: "$retries", NumericGreaterThan: 1 },
                  { Variable: "$.a", NumericLessThanPath: "$limit" },
                ],
                Next: "Use",
              },
            ],
            Default: "Use",
          },
          Use: {
            Type: "Pass",
            InputPath: "$order",
            Parameters: { "copy.$": "$customer", "text.$": "States.Format('{}', $name)", "fine.$": "$.name" },
            End: true,
          },
        },
      });
      assert.deepEqual(problems, []);
    });

    it("rejects Task Credentials", () => {
      const problems = problemsOf(
        machineWith({ Type: "Task", Resource: WORKER_ARN, Credentials: { RoleArn: "arn:aws:iam::123456789012:role/other" } }),
      );
      assert.ok(
        problems.includes(
          "SCHEMA_VALIDATION_FAILED: The field 'Credentials' (cross-account role assumption) is not supported by the local runtime at /States/Only/Credentials",
        ),
        problems.join("\n"),
      );
    });

    it("rejects the distributed Map and each of its fields", () => {
      const problems = problemsOf(
        machineWith({
          Type: "Map",
          ItemReader: { Resource: "arn:aws:states:::s3:getObject", Parameters: { Bucket: "b", Key: "k" } },
          ItemBatcher: { MaxItemsPerBatch: 10 },
          ResultWriter: { Resource: "arn:aws:states:::s3:putObject", Parameters: { Bucket: "b", Prefix: "p" } },
          ToleratedFailurePercentage: 5,
          ItemProcessor: {
            ProcessorConfig: { Mode: "DISTRIBUTED", ExecutionType: "STANDARD" },
            StartAt: "I",
            States: { I: { Type: "Pass", End: true } },
          },
        }),
      );
      for (const expected of [
        "SCHEMA_VALIDATION_FAILED: The field 'ItemReader' (distributed Map) is not supported by the local runtime at /States/Only/ItemReader",
        "SCHEMA_VALIDATION_FAILED: The field 'ItemBatcher' (distributed Map) is not supported by the local runtime at /States/Only/ItemBatcher",
        "SCHEMA_VALIDATION_FAILED: The field 'ResultWriter' (distributed Map) is not supported by the local runtime at /States/Only/ResultWriter",
        "SCHEMA_VALIDATION_FAILED: The field 'ToleratedFailurePercentage' (distributed Map) is not supported by the local runtime at /States/Only/ToleratedFailurePercentage",
        "SCHEMA_VALIDATION_FAILED: ProcessorConfig Mode DISTRIBUTED is not supported by the local runtime at /States/Only/ItemProcessor/ProcessorConfig/Mode",
      ]) {
        assert.ok(problems.includes(expected), `missing: ${expected}\n${problems.join("\n")}`);
      }
    });

    it("checks states nested in Map item processors and Parallel branches", () => {
      const problems = problemsOf({
        StartAt: "Fork",
        States: {
          Fork: {
            Type: "Parallel",
            Branches: [{ StartAt: "Deep", States: { Deep: { Type: "Task", Resource: "arn:aws:states:::ecs:runTask", End: true } } }],
            Next: "Each",
          },
          Each: { Type: "Map", Iterator: { StartAt: "Item", States: { Item: { Type: "Pass", Output: { a: 1 }, End: true } } }, End: true },
        },
      });
      assert.ok(
        problems.includes(
          "INVALID_RESOURCE: The resource 'arn:aws:states:::ecs:runTask' is not supported by the local runtime at /States/Fork/Branches/0/States/Deep/Resource",
        ),
        problems.join("\n"),
      );
      assert.ok(
        problems.includes(
          "SCHEMA_VALIDATION_FAILED: The field 'Output' is supported only in JSONata states at /States/Each/Iterator/States/Item/Output",
        ),
        problems.join("\n"),
      );
    });
  });

  it("reports problems of every layer together in one error", () => {
    const definition = callbackDefinition();
    definition.States.WaitForCompletion.HeartbeatSeconds = 900;
    definition.States.WaitForCompletion.Parameters.Payload = { "input.$": "$" };
    definition.States.WaitForCompletion.Catch[0].Next = "Gone";
    definition.States.ContinueProcess = { Type: "Pass", Parameters: { "x.$": "States.Nope()" }, End: true };
    definition.States.Extra = {
      Type: "Task",
      Resource: "arn:aws:states:::ecs:runTask.sync",
      Parameters: { Cluster: "c", TaskDefinition: "t" },
      End: true,
    };
    definition.States.Pause = { Type: "Wait", Seconds: "ten", End: true };
    const problems = problemsOf(definition);
    assert.equal(problems.length, 6, problems.join("\n"));
    assert.match(problems[0], /^SCHEMA_VALIDATION_FAILED: The field 'Seconds' is invalid: .* at \/States\/Pause\/Seconds$/);
    // Each as AWS reports it: its code, and its location last.
    assert.deepEqual(
      problems.slice(1).map((problem) => /^([A-Z_]+): .* at (\S+)$/.exec(problem)?.slice(1).join(" ")),
      [
        "MISSING_TRANSITION_TARGET /States/WaitForCompletion/Catch/0/Next",
        "SCHEMA_VALIDATION_FAILED /States/WaitForCompletion/HeartbeatSeconds",
        "SCHEMA_VALIDATION_FAILED /States/WaitForCompletion/Parameters",
        "SCHEMA_VALIDATION_FAILED /States/ContinueProcess/Parameters/x.$",
        "INVALID_RESOURCE /States/Extra/Resource",
      ],
    );
  });
});
