/**
 * Debian's AWS CLI (2.9) predates TestState and RedriveExecution (Nov 2023). botocore reads service models from
 * the folders in AWS_DATA_PATH before its own, so the tests give the CLI a copy of its own Step Functions model
 * with those operations (and the redrive fields of DescribeExecution, ListExecutions and the history) added,
 * written here from the shapes of the AWS SDK for JavaScript's model (@aws-sdk/client-sfn). Nothing in ~/.aws
 * is touched; the folder lives in the system's temporary directory.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

/** Where Debian's awscli package keeps its botocore models (the CLI CI installs). */
export const CLI_STEP_FUNCTIONS_MODEL = "/usr/lib/python3/dist-packages/awscli/botocore/data/stepfunctions/2016-11-23/service-2.json";

const string = (extra: object = {}) => ({ type: "string", ...extra });
const structure = (members: Record<string, { shape: string }>, required: string[] = []) => ({ type: "structure", required, members });
const member = (shape: string) => ({ shape });

const ADDED_SHAPES: Record<string, object> = {
  LocalString: string(),
  LocalInteger: { type: "integer" },
  LocalBoolean: { type: "boolean" },
  RedriveExecutionInput: structure({ executionArn: member("Arn"), clientToken: member("LocalString") }, ["executionArn"]),
  RedriveExecutionOutput: structure({ redriveDate: member("Timestamp") }, ["redriveDate"]),
  ExecutionNotRedrivable: { type: "structure", members: { message: member("LocalString") }, exception: true },
  ExecutionRedrivenEventDetails: structure({ redriveCount: member("LocalInteger") }),
  LocalMockErrorOutput: structure({ error: member("LocalString"), cause: member("LocalString") }),
  LocalMockInput: structure({
    result: member("LocalString"),
    errorOutput: member("LocalMockErrorOutput"),
    fieldValidationMode: member("LocalString"),
  }),
  LocalTestStateConfiguration: structure({
    retrierRetryCount: member("LocalInteger"),
    errorCausedByState: member("LocalString"),
    mapIterationFailureCount: member("LocalInteger"),
    mapItemReaderData: member("LocalString"),
  }),
  TestStateInput: structure(
    {
      definition: member("Definition"),
      roleArn: member("Arn"),
      input: member("LocalString"),
      inspectionLevel: member("LocalString"),
      revealSecrets: member("LocalBoolean"),
      variables: member("LocalString"),
      stateName: member("LocalString"),
      mock: member("LocalMockInput"),
      context: member("LocalString"),
      stateConfiguration: member("LocalTestStateConfiguration"),
    },
    ["definition"],
  ),
  LocalInspectionErrorDetails: structure({
    catchIndex: member("LocalInteger"),
    retryIndex: member("LocalInteger"),
    retryBackoffIntervalSeconds: member("LocalInteger"),
  }),
  LocalInspectionData: structure({
    input: member("LocalString"),
    afterArguments: member("LocalString"),
    afterInputPath: member("LocalString"),
    afterParameters: member("LocalString"),
    result: member("LocalString"),
    afterResultSelector: member("LocalString"),
    afterResultPath: member("LocalString"),
    variables: member("LocalString"),
    errorDetails: member("LocalInspectionErrorDetails"),
  }),
  TestStateOutput: structure({
    output: member("LocalString"),
    error: member("LocalString"),
    cause: member("LocalString"),
    inspectionData: member("LocalInspectionData"),
    nextState: member("LocalString"),
    status: member("LocalString"),
  }),
};

const REDRIVE_FIELDS = { redriveCount: member("LocalInteger"), redriveDate: member("Timestamp") };

/** Writes the extended model into a new temporary folder and returns it (the value for AWS_DATA_PATH). */
export function cliDataPathWithNewerOperations(): string {
  const model = JSON.parse(fs.readFileSync(CLI_STEP_FUNCTIONS_MODEL, "utf8"));
  Object.assign(model.shapes, ADDED_SHAPES);
  model.operations.RedriveExecution = {
    name: "RedriveExecution",
    http: { method: "POST", requestUri: "/" },
    input: { shape: "RedriveExecutionInput" },
    output: { shape: "RedriveExecutionOutput" },
    errors: [
      { shape: "ExecutionDoesNotExist" },
      { shape: "ExecutionNotRedrivable" },
      { shape: "ExecutionLimitExceeded" },
      { shape: "InvalidArn" },
    ],
    idempotent: true,
  };
  model.operations.TestState = {
    name: "TestState",
    http: { method: "POST", requestUri: "/" },
    input: { shape: "TestStateInput" },
    output: { shape: "TestStateOutput" },
    errors: [{ shape: "InvalidArn" }, { shape: "InvalidDefinition" }, { shape: "InvalidExecutionInput" }, { shape: "ValidationException" }],
  };
  Object.assign(model.shapes.DescribeExecutionOutput.members, REDRIVE_FIELDS, {
    redriveStatus: member("LocalString"),
    redriveStatusReason: member("LocalString"),
  });
  Object.assign(model.shapes.ExecutionListItem.members, REDRIVE_FIELDS);
  model.shapes.ListExecutionsInput.members.redriveFilter = member("LocalString");
  model.shapes.HistoryEvent.members.executionRedrivenEventDetails = member("ExecutionRedrivenEventDetails");
  model.shapes.HistoryEventType.enum = [...model.shapes.HistoryEventType.enum, "ExecutionRedriven"];

  const folder = fs.mkdtempSync(path.join(os.tmpdir(), "cli-models-"));
  const target = path.join(folder, "stepfunctions", "2016-11-23");
  fs.mkdirSync(target, { recursive: true });
  fs.writeFileSync(path.join(target, "service-2.json"), JSON.stringify(model));
  return folder;
}
