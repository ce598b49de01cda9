/**
 * Workflow variables (`Assign`, read as `$name`). The execution has one scope; each Parallel branch and
 * each Map iteration gets a child scope that reads everything outside it and assigns only inside it, so
 * what a branch assigns is gone when the branch ends and the outer values are never changed from within.
 * https://docs.aws.amazon.com/step-functions/latest/dg/workflow-variables.html
 */
import { StatesError, STATES_ERRORS } from "./errors";

/** AWS's size limits for variables, in bytes of their JSON text. */
export const VARIABLE_LIMITS = {
  /** One variable's value. */
  variableBytes: 262_144,
  /** All the values one `Assign` sets together. */
  assignBytes: 262_144,
  /** Everything an execution stores at once. */
  executionBytes: 10_485_760,
} as const;

export class VariableScope {
  private readonly values = new Map<string, unknown>();
  private readonly sizes = new Map<string, number>();
  /** Variables of this scope and the ones outside it, as JSONata bindings; rebuilt after an assignment. */
  private flattened?: Record<string, unknown>;
  private flattenedFrom?: Readonly<Record<string, unknown>>;

  constructor(private readonly parent?: VariableScope) {}

  /** The scope of a Parallel branch or Map iteration. */
  child(): VariableScope {
    return new VariableScope(this);
  }

  has(name: string): boolean {
    return this.values.has(name) || (this.parent?.has(name) ?? false);
  }

  get(name: string): unknown {
    if (this.values.has(name)) return this.values.get(name);
    return this.parent?.get(name);
  }

  /** Every visible variable (inner values hide outer ones of the same name); the same object until something changes. */
  all(): Readonly<Record<string, unknown>> {
    const outer = this.parent?.all();
    if (!this.flattened || outer !== this.flattenedFrom) {
      this.flattened = outer ? { ...outer } : {};
      for (const [name, value] of this.values) this.flattened[name] = value;
      this.flattenedFrom = outer;
    }
    return this.flattened;
  }

  /**
   * Sets the values one state's Assign produced, after checking AWS's size limits; returns their JSON
   * texts for the history's `assignedVariables`.
   */
  assign(values: Record<string, unknown>): Record<string, string> {
    const texts: Record<string, string> = {};
    let assignBytes = 0;
    for (const [name, value] of Object.entries(values)) {
      const text = JSON.stringify(value === undefined ? null : value);
      const bytes = Buffer.byteLength(text, "utf8");
      if (bytes > VARIABLE_LIMITS.variableBytes) {
        throw new StatesError(
          STATES_ERRORS.DataLimitExceeded,
          `The variable '${name}' has a size of ${bytes} bytes, which exceeds the maximum of ${VARIABLE_LIMITS.variableBytes} bytes for one variable.`,
        );
      }
      assignBytes += bytes;
      texts[name] = text;
    }
    if (assignBytes > VARIABLE_LIMITS.assignBytes) {
      throw new StatesError(
        STATES_ERRORS.DataLimitExceeded,
        `The Assign field sets ${assignBytes} bytes of variables, which exceeds the maximum of ${VARIABLE_LIMITS.assignBytes} bytes for one state.`,
      );
    }
    const total = this.totalBytes() + assignBytes - Object.keys(texts).reduce((sum, name) => sum + (this.sizes.get(name) ?? 0), 0);
    if (total > VARIABLE_LIMITS.executionBytes) {
      throw new StatesError(
        STATES_ERRORS.DataLimitExceeded,
        `The variables would hold ${total} bytes, which exceeds the maximum of ${VARIABLE_LIMITS.executionBytes} bytes for an execution.`,
      );
    }
    for (const [name, text] of Object.entries(texts)) {
      this.values.set(name, values[name] === undefined ? null : values[name]);
      this.sizes.set(name, Buffer.byteLength(text, "utf8"));
    }
    this.flattened = undefined;
    return texts;
  }

  private totalBytes(): number {
    let total = this.parent?.totalBytes() ?? 0;
    for (const bytes of this.sizes.values()) total += bytes;
    return total;
  }
}
