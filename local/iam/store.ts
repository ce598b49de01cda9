/**
 * Every policy the program declares, by the identity or resource it belongs to: roles (trust policy, inline
 * policies, role policies, attached customer managed policies), Lambda permissions, bucket, queue and topic
 * policies. Built from the declared resources; a reload (watch mode) builds a new one, never edits this one.
 */
import type { DeclaredResource } from "../common/service";
import { asList, readPolicy, type PolicyStatement, type SourcedStatement } from "./policy";

export interface RoleRecord {
  arn: string;
  name: string;
  trust: SourcedStatement[];
  identity: SourcedStatement[];
}

export class PolicyStore {
  private readonly roles = new Map<string, RoleRecord>();
  private readonly rolesByName = new Map<string, RoleRecord>();
  private readonly resourcePolicies = new Map<string, SourcedStatement[]>();
  /** What the store could not take into account (AWS managed policies, unknown references), for the start-up log. */
  readonly notes: string[] = [];

  constructor(resources: readonly DeclaredResource[]) {
    const managed = new Map<string, { name: string; policy: unknown }>();
    for (const resource of resources)
      if (resource.type === "aws:iam/policy:Policy")
        managed.set(resource.state.arn, { name: resource.state.name ?? resource.name, policy: resource.inputs.policy });

    for (const resource of resources) {
      const { inputs, state } = resource;
      switch (resource.type) {
        case "aws:iam/role:Role": {
          const name: string = state.name ?? resource.id;
          const role: RoleRecord = {
            arn: state.arn,
            name,
            trust: readPolicy(inputs.assumeRolePolicy, `trust policy of role ${name}`),
            identity: [],
          };
          for (const inline of inputs.inlinePolicies ?? [])
            if (inline?.policy) role.identity.push(...readPolicy(inline.policy, `inline policy "${inline.name}" of role ${name}`));
          this.roles.set(role.arn, role);
          this.rolesByName.set(name, role);
          for (const arn of inputs.managedPolicyArns ?? []) this.attach(role, arn, managed);
          break;
        }
        case "aws:iam/rolePolicy:RolePolicy": {
          const role = this.roleNamed(String(inputs.role), resource);
          if (role) role.identity.push(...readPolicy(inputs.policy, `role policy "${state.name ?? resource.name}" of role ${role.name}`));
          break;
        }
        case "aws:iam/rolePolicyAttachment:RolePolicyAttachment": {
          const role = this.roleNamed(String(inputs.role), resource);
          if (role) this.attach(role, String(inputs.policyArn), managed);
          break;
        }
        case "aws:lambda/permission:Permission": {
          const functionArn = functionArnOf(String(inputs.function), resources);
          if (!functionArn) this.notes.push(`${resource.name}: function "${inputs.function}" is not declared; the permission is ignored`);
          else this.addResourcePolicy(functionArn, [permissionStatement(inputs, functionArn)], `resource policy of ${functionArn}`);
          break;
        }
        case "aws:s3/bucketPolicy:BucketPolicy":
          this.addResourcePolicy(`arn:aws:s3:::${inputs.bucket}`, inputs.policy, `bucket policy of ${inputs.bucket}`);
          break;
        case "aws:sqs/queuePolicy:QueuePolicy": {
          const queue = resources.find(
            (candidate) => candidate.type === "aws:sqs/queue:Queue" && (candidate.state.url ?? candidate.id) === inputs.queueUrl,
          );
          if (queue) this.addResourcePolicy(queue.state.arn, inputs.policy, `queue policy of ${queue.state.name ?? queue.name}`);
          else this.notes.push(`${resource.name}: queue ${inputs.queueUrl} is not declared; the policy is ignored`);
          break;
        }
        case "aws:sns/topicPolicy:TopicPolicy":
          this.addResourcePolicy(String(inputs.arn), inputs.policy, `topic policy of ${inputs.arn}`);
          break;
        case "aws:sqs/queue:Queue":
        case "aws:sns/topic:Topic":
          if (inputs.policy) this.addResourcePolicy(state.arn, inputs.policy, `policy of ${state.name ?? resource.name}`);
          break;
        case "aws:s3/bucket:Bucket":
        case "aws:s3/bucketV2:BucketV2":
          if (inputs.policy)
            this.addResourcePolicy(
              `arn:aws:s3:::${state.bucket ?? resource.id}`,
              inputs.policy,
              `bucket policy of ${state.bucket ?? resource.id}`,
            );
          break;
      }
    }
  }

  /** Every action any declared policy names (to check against the Service Authorization Reference). */
  namedActions(): string[] {
    return this.statements().flatMap(({ statement }) => asList(statement.Action ?? statement.NotAction));
  }

  /** Every declared statement: trust, identity and resource policies. */
  statements(): SourcedStatement[] {
    return [...this.roles.values()].flatMap((role) => [...role.trust, ...role.identity]).concat([...this.resourcePolicies.values()].flat());
  }

  role(arn: string): RoleRecord | undefined {
    return this.roles.get(arn);
  }

  /** The resource-based policy that governs `resourceArn`: its own, or (for an S3 object) its bucket's. */
  resourcePolicyFor(resourceArn: string): SourcedStatement[] {
    const own = this.resourcePolicies.get(resourceArn);
    if (own) return own;
    // A qualified function ARN (":$LATEST", ":1") falls under the function's own policy locally (no versions here).
    const unqualifiedFunction = /^(arn:aws[a-z-]*:lambda:[^:]+:\d{12}:function:[^:]+):[^:]+$/.exec(resourceArn)?.[1];
    if (unqualifiedFunction) return this.resourcePolicies.get(unqualifiedFunction) ?? [];
    const bucket = /^arn:aws[a-z-]*:s3:::([^/]+)\//.exec(resourceArn)?.[1];
    return (bucket && this.resourcePolicies.get(`arn:aws:s3:::${bucket}`)) || [];
  }

  private roleNamed(reference: string, resource: DeclaredResource): RoleRecord | undefined {
    const role = this.rolesByName.get(reference) ?? this.roles.get(reference);
    if (!role) this.notes.push(`${resource.type} "${resource.name}": role "${reference}" is not declared; ignored`);
    return role;
  }

  private attach(role: RoleRecord, policyArn: string, managed: Map<string, { name: string; policy: unknown }>): void {
    const policy = managed.get(policyArn);
    if (policy) role.identity.push(...readPolicy(policy.policy, `managed policy "${policy.name}" attached to role ${role.name}`));
    // AWS managed policies' documents are not part of the program, so they are not known here.
    else
      this.notes.push(
        `role ${role.name}: ${policyArn} is not declared by the program (an AWS managed policy?); its permissions are not granted locally`,
      );
  }

  private addResourcePolicy(resourceArn: string, policy: unknown, source: string): void {
    const statements = Array.isArray(policy)
      ? policy.map((statement) => ({ statement, source, variables: true }))
      : readPolicy(policy, source);
    this.resourcePolicies.set(resourceArn, [...(this.resourcePolicies.get(resourceArn) ?? []), ...statements]);
  }
}

/** A Lambda permission as the statement Lambda adds to the function's policy (what GetPolicy shows). */
function permissionStatement(inputs: Record<string, any>, functionArn: string): PolicyStatement {
  const principal: string = inputs.principal;
  const condition: Record<string, Record<string, string>> = {};
  if (inputs.sourceArn) condition.ArnLike = { "AWS:SourceArn": inputs.sourceArn };
  if (inputs.sourceAccount) condition.StringEquals = { "AWS:SourceAccount": inputs.sourceAccount };
  return {
    Sid: inputs.statementId,
    Effect: "Allow",
    Principal: principal === "*" ? "*" : principal.includes(".amazonaws.com") ? { Service: principal } : { AWS: principal },
    Action: inputs.action,
    Resource: inputs.qualifier ? `${functionArn}:${inputs.qualifier}` : functionArn,
    ...(Object.keys(condition).length ? { Condition: condition } : {}),
  };
}

function functionArnOf(reference: string, resources: readonly DeclaredResource[]): string | undefined {
  const name = /:function:([^:]+)/.exec(reference)?.[1] ?? reference;
  return resources.find((resource) => resource.type === "aws:lambda/function:Function" && (resource.state.name ?? resource.id) === name)
    ?.state.arn;
}
