import { strict as assert } from "node:assert";
import { isStatesErrorName, referencesTaskToken, STATES_ERRORS, TIMEOUT_ERRORS } from "../../workflow/contract";

describe("workflow contract: referencesTaskToken (the AWS CDK's rule)", () => {
  it("accepts $$.Task.Token in a .$ field at any depth, and inside an intrinsic", () => {
    assert.equal(referencesTaskToken({ "taskToken.$": "$$.Task.Token" }), true);
    assert.equal(referencesTaskToken({ meta: { "token.$": "States.Format('token={}', $$.Task.Token)" } }), true);
    assert.equal(referencesTaskToken({ list: [{ "t.$": "States.JsonToString($$.Task.Token)" }] }), true);
    assert.equal(referencesTaskToken("States.Format('{} {}', $.name, $$.Task.Token)"), true);
  });

  it("accepts $$.Task and $$, which carry the token inside them", () => {
    assert.equal(referencesTaskToken({ "task.$": "$$.Task" }), true);
    assert.equal(referencesTaskToken({ "context.$": "$$" }), true);
    assert.equal(referencesTaskToken({ "body.$": "States.JsonToString($$)" }), true);
  });

  it("rejects a token that is only text: a field without .$, or a quoted literal inside an intrinsic", () => {
    assert.equal(referencesTaskToken({ taskToken: "$$.Task.Token" }), false);
    assert.equal(referencesTaskToken({ "text.$": "States.Format('$$.Task.Token is {}', $.name)" }), false);
    assert.equal(referencesTaskToken({ "text.$": "States.Format('it\\'s $$.Task.Token', $.name)" }), false);
  });

  it("rejects other Context Object paths, even ones that start with the same letters", () => {
    assert.equal(referencesTaskToken({ "id.$": "$$.Execution.Id" }), false);
    assert.equal(referencesTaskToken({ "x.$": "$$.Task.TokenCount" }), false);
    assert.equal(referencesTaskToken({ "input.$": "$" }), false);
    assert.equal(referencesTaskToken(null), false);
    assert.equal(referencesTaskToken(undefined), false);
  });
});

describe("workflow contract: Step Functions' own error names (one list for engine, validator and components)", () => {
  it("knows every States. error AWS defines, States.Http.Socket and States.Runtime included, and nothing else", () => {
    for (const name of ["States.ALL", "States.Runtime", "States.DataLimitExceeded", "States.Http.Socket", "States.HeartbeatTimeout"])
      assert.equal(isStatesErrorName(name), true, name);
    for (const name of ["States.Timout", "States.all", "ProcessingFailed", "States."]) assert.equal(isStatesErrorName(name), false, name);
    assert.deepEqual(TIMEOUT_ERRORS, [STATES_ERRORS.Timeout, STATES_ERRORS.HeartbeatTimeout]);
  });
});
