/**
 * SNS's query protocol (the only one SNS speaks, SDK v3 included): maps arrive as `X.entry.N.key/value`
 * (message attributes as `.Name/.Value`), lists as `X.member.N`; answers use the same `entry`/`member` forms.
 */
import { queryList, type QueryValue, type XmlNode, type XmlTree } from "../common/awsQuery";

export const SNS_NAMESPACE = "http://sns.amazonaws.com/doc/2010-03-31/";

/** The unflattened form → plain maps and lists. */
export function queryInput(value: QueryValue): any {
  if (typeof value === "string") return value;
  if (Array.isArray(value)) return value.map(queryInput);
  const keys = Object.keys(value);
  if (keys.length === 1 && keys[0] === "entry") {
    return Object.fromEntries(
      queryList(value.entry).map((entry: any) => [entry.key ?? entry.Name, queryInput(entry.value ?? entry.Value)]),
    );
  }
  if (keys.length === 1 && keys[0] === "member") return queryList(value.member).map(queryInput);
  return Object.fromEntries(keys.map((key) => [key, queryInput(value[key])]));
}

/** An output shape → XML: lists as `<member>`s, the `Attributes` map as `<entry><key/><value/></entry>`s. */
export function queryResult(output: Record<string, unknown>): XmlTree | undefined {
  if (Object.keys(output).length === 0) return undefined;
  return toTree(output) as XmlTree;
}

function toTree(value: unknown, key?: string): XmlNode {
  if (Array.isArray(value)) return { member: value.map((item) => toTree(item)) };
  if (value && typeof value === "object") {
    if (key === "Attributes") return { entry: Object.entries(value).map(([k, v]) => ({ key: k, value: String(v) })) };
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, toTree(v, k)]));
  }
  return value as XmlNode;
}
