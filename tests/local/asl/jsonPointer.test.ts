import assert from "node:assert/strict";
import { jsonPointer, pointerKeys } from "../../../local/stepfunctions/asl/jsonPointer";

describe("JSON Pointers (RFC 6901) for definition problems' locations", () => {
  it("escapes ~ as ~0 and / as ~1 when it extends a pointer, and reads them back", () => {
    const pointer = jsonPointer(jsonPointer(jsonPointer("", "States"), "Fetch a/b ~ c"), 0);
    assert.equal(pointer, "/States/Fetch a~1b ~0 c/0");
    assert.deepEqual(pointerKeys(pointer), ["States", "Fetch a/b ~ c", "0"]);
  });

  it("reads ~01 as the text ~1, not as a slash (unescapes ~1 before ~0)", () => {
    assert.deepEqual(pointerKeys("/a~01b"), ["a~1b"]);
    assert.equal(jsonPointer("", "a~1b"), "/a~01b");
    assert.deepEqual(pointerKeys(""), []);
  });
});
