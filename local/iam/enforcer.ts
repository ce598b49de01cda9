/**
 * Local IAM enforcement: who is calling (verified SigV4, issued credentials), what the call needs (operations.ts),
 * whether the program's policies allow it (evaluate.ts), and what a refused caller gets (responses.ts). In
 * `enforce` mode a call AWS would deny fails locally with AWS's answer; in `warn` mode it is logged and allowed;
 * `off` checks nothing. Every denial is logged once with the statement that would allow it, and kept for the console.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import {
  setRequestPrincipal,
  type AccessControl,
  type AccessDecision,
  type AccessRequest,
  type Authenticator,
  type Identification,
  type Principal,
} from "../common/access";
import type { DeclaredResource } from "../common/service";
import { evaluate, type Decision, type EvaluatedPrincipal } from "./evaluate";
import { describeRequest, type ResourceDirectory } from "./operations";
import { CredentialIssuer, principalArn, type IssuedCredentials } from "./principals";
import { accessDeniedRefusal, authenticationRefusal, sendRefusal, usesQueryProtocol, type AuthenticationProblem } from "./responses";
import { checkScope, readSignature, signatureMatches } from "./sigv4";
import { unknownActions } from "./reference";
import { readPolicy, type SourcedStatement } from "./policy";
import { PolicyStore } from "./store";
import { IAM_MODES, type IamMode } from "./modes";

export { IAM_MODES, type IamMode };

export interface IamOptions {
  mode: IamMode;
  region: string;
  accountId: string;
  /** Access key ids of the person at the terminal; undefined: any credentials the runtime did not issue (and unsigned calls). */
  terminalAccessKeys?: readonly string[];
  log(source: string, line: string): void;
  now?: () => number;
}

export interface DeniedCall {
  time: Date;
  /** The caller, as AWS names it (assumed-role session ARN, service principal). */
  principal: string;
  action: string;
  resource: string;
  executionArn?: string;
  /** False in warn mode: AWS would deny it, the local runtime let it through. */
  enforced: boolean;
  message: string;
}

/** Read interface for the console: denied calls, optionally of one execution. */
export interface DeniedCallLog {
  deniedCalls(executionArn?: string): DeniedCall[];
}

/**
 * A queue's or topic's policy as it is now (declared, or set through SQS's and SNS's own APIs, as CreateQueue's
 * Policy attribute): the policy text ("" for none) and how to name it; undefined when `resourceArn` is no such queue or topic.
 */
export type LiveResourcePolicies = (resourceArn: string) => { policy: string; source: string } | undefined;

export interface HttpDirectory extends ResourceDirectory {
  objectExists(bucket: string, key: string): boolean;
}

const KEPT_DENIALS = 1000;
const DECISION_CACHE_MS = 1000;

export class IamEnforcer implements AccessControl, Authenticator, DeniedCallLog {
  readonly mode: IamMode;
  private store: PolicyStore | undefined;
  private readonly issuer = new CredentialIssuer();
  private readonly denials: DeniedCall[] = [];
  private readonly trustDecisions = new Map<string, boolean>();
  private readonly allowedRecently = new Map<string, number>();
  private livePolicies: LiveResourcePolicies | undefined;
  /** Whether a policy could tell a role's sessions apart (see namesSessions). */
  private sessionSensitive: boolean;
  private readonly parsedLivePolicies = new Map<string, SourcedStatement[]>();
  private readonly now: () => number;

  constructor(
    resources: readonly DeclaredResource[],
    private readonly options: IamOptions,
  ) {
    this.mode = options.mode;
    this.now = options.now ?? Date.now;
    this.store = options.mode === "off" ? undefined : new PolicyStore(resources);
    this.sessionSensitive = namesSessions(this.store?.statements() ?? []);
    for (const note of this.store?.notes ?? []) options.log("iam", note);
  }

  /**
   * Watch mode: the reloaded program's roles and policies replace the previous ones (a malformed policy throws,
   * and the previous ones stay). Credentials already issued keep naming their role, whose policies are looked up
   * on every call, so a changed policy applies at once to running processes, as it does on AWS; a removed role
   * denies them. Cached decisions go.
   */
  async reload(resources: readonly DeclaredResource[]): Promise<void> {
    if (this.mode === "off") return;
    const store = new PolicyStore(resources);
    this.store = store;
    this.sessionSensitive = namesSessions(store.statements());
    this.trustDecisions.clear();
    this.allowedRecently.clear();
    // Parsed live (queue and topic) policies may name sessions; sessionSensitive is recomputed as they are read again.
    this.parsedLivePolicies.clear();
    for (const note of store.notes) this.options.log("iam", note);
    await this.checkNamedActions();
  }

  /** Queue and topic policies are read where SQS and SNS keep them: the APIs may set them after the start. */
  useLivePolicies(lookup: LiveResourcePolicies): void {
    this.livePolicies = lookup;
  }

  /** Logs the actions the program's policies name that AWS does not know (AWS would refuse such a policy). */
  async checkNamedActions(): Promise<void> {
    if (!this.store) return;
    const unknown = await unknownActions(this.store.namedActions());
    if (unknown.length > 0)
      this.options.log(
        "iam",
        `policies name actions the Service Authorization Reference does not list (AWS refuses them: MalformedPolicyDocument): ${unknown.join(", ")}`,
      );
  }

  /** One line for the start-up banner. */
  describe(): string {
    const terminal = this.options.terminalAccessKeys ? `access keys ${this.options.terminalAccessKeys.join(", ")}` : "any credentials";
    const what = {
      enforce: "calls the deployed policies would deny fail with AWS's AccessDenied",
      warn: "calls the deployed policies would deny are logged and allowed",
      off: "no signature or policy checks",
    }[this.mode];
    return `IAM: ${this.mode} (${what}; the terminal: ${terminal})`;
  }

  /**
   * Credentials for a function's processes, identifying its role. Lambda must be able to assume the role: AWS
   * refuses to create the function otherwise, and so does the runtime (enforce) or it warns (warn).
   */
  credentialsForFunction(functionName: string, roleArn: string): IssuedCredentials {
    const principal: Principal = { kind: "role", roleArn, sessionName: functionName, assumedBy: "lambda.amazonaws.com" };
    if (this.store) {
      const problem = this.trustProblem(principal);
      if (problem) {
        const message = `Function ${functionName}: the role defined for the function cannot be assumed by Lambda (${problem})`;
        if (this.mode === "enforce") throw new Error(message);
        this.options.log("iam", `AWS would refuse: ${message}`);
      }
    }
    return this.issuer.issue(principal);
  }

  identify(req: IncomingMessage, url: URL, body: Buffer, signingName: string): Identification {
    const signature = readSignature(req, url);
    const fail = (problem: AuthenticationProblem, detail?: string): Identification => ({
      failure: authenticationRefusal(signingName, problem, detail),
    });
    if (signature === undefined)
      return this.options.terminalAccessKeys ? { principal: { kind: "anonymous" } } : { principal: { kind: "terminal" } };
    if ("problem" in signature) return fail(signature.problem, "message" in signature ? signature.message : undefined);
    const scopeProblem = checkScope(signature, { region: this.options.region, service: signingName }, this.now());
    if (scopeProblem) return fail(scopeProblem.problem, "message" in scopeProblem ? scopeProblem.message : undefined);
    const session = this.issuer.session(signature.accessKeyId);
    if (session) {
      if (signature.sessionToken !== session.sessionToken) return fail("badToken");
      if (!signatureMatches(req, url, body, signature, session.secretAccessKey)) return fail("mismatch");
      return { principal: session.principal };
    }
    // A session key this runtime did not issue (an old run's, another stack's) names a principal it does not know.
    if (CredentialIssuer.looksIssued(signature.accessKeyId) && signature.sessionToken !== undefined) return fail("badToken");
    const terminalKeys = this.options.terminalAccessKeys;
    if (terminalKeys && !terminalKeys.includes(signature.accessKeyId)) return fail("unknownKey");
    // The terminal's secret is not known here: its signature's form and scope are checked, not its value.
    return { principal: { kind: "terminal", accessKeyId: signature.accessKeyId } };
  }

  authorize(request: AccessRequest): AccessDecision {
    if (!this.store || request.principal.kind === "terminal") return { allowed: true, message: "" };
    // The same caller asking the same thing within a second gets the same answer (only aws:CurrentTime and
    // aws:EpochTime could differ, by less than that): the hot path of a busy run is one Map lookup.
    const cacheKey = `${this.callerKey(request.principal)}\n${request.action}\n${request.resource}\n${request.context ? JSON.stringify(request.context) : ""}`;
    const now = this.now();
    const cached = this.allowedRecently.get(cacheKey);
    if (cached !== undefined && now - cached < DECISION_CACHE_MS) return { allowed: true, message: "" };
    const { decision, message, principal } = this.decide(request);
    if (decision.effect === "Allow") {
      if (this.allowedRecently.size > 10_000) this.allowedRecently.clear();
      this.allowedRecently.set(cacheKey, now);
    }
    if (decision.effect === "Allow") return { allowed: true, message: "" };
    this.recordDenial(request, principal, message, decision);
    return { allowed: this.mode !== "enforce", message };
  }

  /**
   * The HTTP middleware: identifies the caller and authorizes every IAM action the request needs. Returns true
   * when it answered the request itself (refused); false to let the service answer.
   */
  screen(req: IncomingMessage, res: ServerResponse, url: URL, body: Buffer, signingName: string, directory: HttpDirectory): boolean {
    if (this.mode === "off") return false;
    const identified = this.identify(req, url, body, signingName);
    const queryProtocol = usesQueryProtocol(req, signingName);
    if ("failure" in identified) {
      const line = `refused ${signingName} request ${req.method} ${url.pathname}: ${identified.failure.code} (${identified.failure.message})`;
      if (this.mode === "enforce") {
        this.options.log("iam", line);
        sendRefusal(res, signingName, identified.failure, url.pathname, queryProtocol);
        return true;
      }
      this.options.log("iam", `warn: AWS would have ${line}`);
      return false;
    }
    const { principal } = identified;
    setRequestPrincipal(req, principal);
    if (principal.kind === "terminal" || signingName === "execute-api") return false;
    if (principal.kind === "anonymous" && signingName !== "s3") {
      if (this.mode === "enforce") {
        sendRefusal(res, signingName, authenticationRefusal(signingName, "missing"), url.pathname, queryProtocol);
        return true;
      }
      return false;
    }
    const described = describeRequest(signingName, req, url, body, directory);
    for (const call of described?.calls ?? []) {
      const decision = this.authorize({ principal, ...call });
      if (!decision.allowed) {
        const message =
          signingName === "s3"
            ? decision.message.replace(` on resource: ${call.resource} `, ` on resource: "${call.resource}" `)
            : decision.message;
        sendRefusal(res, signingName, accessDeniedRefusal(signingName, message), url.pathname, queryProtocol);
        return true;
      }
    }
    // S3 hides whether a key exists from a caller that may not list the bucket: 403, not 404.
    // https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObject.html (Permissions)
    const object = described?.object;
    if (object && this.mode === "enforce" && !directory.objectExists(object.bucket, object.key)) {
      const listing = this.decide({ principal, action: "s3:ListBucket", resource: `arn:aws:s3:::${object.bucket}` });
      if (listing.decision.effect !== "Allow") {
        sendRefusal(res, "s3", accessDeniedRefusal("s3", "Access Denied"), url.pathname);
        return true;
      }
    }
    return false;
  }

  /**
   * The caller, for the decision cache. A role session's name (a state machine's sessions are named after each
   * execution) changes only aws:userid and the session ARN, so it is left out unless some policy names either.
   */
  private callerKey(principal: Principal): string {
    switch (principal.kind) {
      case "role":
        return `role\n${principal.roleArn}\n${principal.assumedBy}\n${principal.sourceArn ?? ""}${this.sessionSensitive ? `\n${principal.sessionName}` : ""}`;
      case "service":
        return `service\n${principal.service}\n${principal.sourceArn ?? ""}\n${principal.sourceAccount ?? ""}`;
      case "terminal":
        return `terminal\n${principal.accessKeyId ?? ""}`;
      case "anonymous":
        return "anonymous";
    }
  }

  deniedCalls(executionArn?: string): DeniedCall[] {
    return executionArn === undefined ? [...this.denials] : this.denials.filter((call) => call.executionArn === executionArn);
  }

  private decide(request: AccessRequest): { decision: Decision; message: string; principal: string } {
    const store = this.store!;
    const { accountId } = this.options;
    const principal = request.principal;
    const callerArn = principalArn(principal, accountId);
    const context = this.context(request);
    let evaluated: EvaluatedPrincipal;
    let identity: Parameters<typeof evaluate>[0]["identity"] = [];
    switch (principal.kind) {
      case "role": {
        const role = store.role(principal.roleArn);
        const trustProblem = this.trustProblem(principal);
        if (!role || trustProblem) {
          const why = !role ? `role ${principal.roleArn} is not declared by the program` : trustProblem!;
          return {
            decision: { effect: "ImplicitDeny" },
            message: `${principal.assumedBy} could not assume ${principal.roleArn}: ${why}`,
            principal: callerArn,
          };
        }
        evaluated = { arn: callerArn, roleArn: role.arn };
        identity = role.identity;
        break;
      }
      case "service":
        evaluated = { service: principal.service };
        break;
      case "anonymous":
        evaluated = { anonymous: true };
        break;
      case "terminal":
        return { decision: { effect: "ImplicitDeny" }, message: "", principal: callerArn };
    }
    const resourcePolicy = this.resourcePolicyFor(request.resource);
    const decision = evaluate({
      principal: evaluated,
      action: request.action,
      resource: request.resource,
      context,
      identity,
      resourcePolicy,
    });
    const reason =
      decision.effect === "ExplicitDeny"
        ? `with an explicit deny in a ${decision.policyType} policy`
        : principal.kind === "role"
          ? `because no identity-based policy allows the ${request.action} action`
          : `because no resource-based policy allows the ${request.action} action`;
    const spelled = spelledAsInMessages(request.action);
    return {
      decision,
      message: `User: ${callerArn} is not authorized to perform: ${spelled} on resource: ${request.resource} ${reason.replace(request.action, spelled)}`,
      principal: callerArn,
    };
  }

  private resourcePolicyFor(resourceArn: string): SourcedStatement[] {
    // Only queues and topics have policies SQS and SNS may change at run time.
    const live = /^arn:aws[\w-]*:s(?:qs|ns):/.test(resourceArn) ? this.livePolicies?.(resourceArn) : undefined;
    if (!live) return this.store!.resourcePolicyFor(resourceArn);
    if (live.policy === "") return [];
    const key = `${live.source}\n${live.policy}`;
    let statements = this.parsedLivePolicies.get(key);
    if (!statements) {
      try {
        statements = readPolicy(live.policy, live.source);
      } catch (error) {
        // SQS and SNS refuse a malformed policy when it is set (readResourcePolicy); one that got past them (kept
        // by an older runtime's store) allows nothing, as AWS would have refused to keep it.
        this.options.log("iam", `${(error as Error).message}: it allows nothing`);
        statements = [];
      }
      if (namesSessions(statements)) this.sessionSensitive = true;
      if (this.parsedLivePolicies.size > 1000) this.parsedLivePolicies.clear();
      this.parsedLivePolicies.set(key, statements);
    }
    return statements;
  }

  /** Global condition keys (aws:...) plus the request's own, lower-cased. */
  private context(request: AccessRequest): Map<string, string[]> {
    const { accountId, region } = this.options;
    const now = this.now();
    const context = new Map<string, string[]>([
      ["aws:currenttime", [new Date(now).toISOString()]],
      ["aws:epochtime", [String(Math.floor(now / 1000))]],
      ["aws:securetransport", ["false"]],
      ["aws:sourceip", ["127.0.0.1"]],
      ["aws:requestedregion", [region]],
    ]);
    const principal = request.principal;
    if (principal.kind === "role") {
      context.set("aws:principalarn", [principal.roleArn]);
      context.set("aws:principalaccount", [accountId]);
      context.set("aws:principaltype", ["AssumedRole"]);
      context.set("aws:userid", [`AROALOCAL:${principal.sessionName}`]);
    } else if (principal.kind === "service") {
      context.set("aws:principalservicename", [principal.service]);
      if (principal.sourceArn) context.set("aws:sourcearn", [principal.sourceArn]);
      if (principal.sourceAccount ?? (principal.sourceArn ? accountId : undefined))
        context.set("aws:sourceaccount", [principal.sourceAccount ?? accountId]);
    } else if (principal.kind === "anonymous") context.set("aws:principaltype", ["Anonymous"]);
    for (const [key, values] of Object.entries(request.context ?? {})) context.set(key.toLowerCase(), values);
    return context;
  }

  /** Why the service may not assume the role (its trust policy), or undefined when it may. Cached per role, service and source. */
  private trustProblem(principal: Extract<Principal, { kind: "role" }>): string | undefined {
    const cacheKey = `${principal.roleArn}\n${principal.assumedBy}\n${principal.sourceArn ?? ""}`;
    const cached = this.trustDecisions.get(cacheKey);
    if (cached === true) return undefined;
    const role = this.store!.role(principal.roleArn);
    if (!role) return `role ${principal.roleArn} is not declared by the program`;
    const context = this.context({
      principal: { kind: "service", service: principal.assumedBy, sourceArn: principal.sourceArn },
      action: "sts:AssumeRole",
      resource: role.arn,
    });
    const decision = evaluate({
      principal: { service: principal.assumedBy },
      action: "sts:AssumeRole",
      resource: role.arn,
      context,
      identity: [],
      resourcePolicy: role.trust,
    });
    const allowed = decision.effect === "Allow";
    this.trustDecisions.set(cacheKey, allowed);
    return allowed
      ? undefined
      : `the trust policy of role ${role.name} does not let ${principal.assumedBy} assume it${principal.sourceArn ? ` for ${principal.sourceArn}` : ""}`;
  }

  private recordDenial(request: AccessRequest, principal: string, message: string, decision: Decision): void {
    const enforced = this.mode === "enforce";
    this.denials.push({
      time: new Date(this.now()),
      principal,
      action: request.action,
      resource: request.resource,
      executionArn: request.executionArn,
      enforced,
      message,
    });
    if (this.denials.length > KEPT_DENIALS) this.denials.shift();
    const who =
      request.principal.kind === "role"
        ? `role ${request.principal.roleArn.split("/").pop()} (session ${request.principal.sessionName})`
        : principal;
    const fix =
      decision.effect === "ExplicitDeny"
        ? `denied by ${decision.statement.source}`
        : request.principal.kind === "role"
          ? `no statement allows it; an identity policy of the role needs {"Effect":"Allow","Action":"${request.action}","Resource":"${request.resource}"}`
          : `no statement allows it; the resource policy of ${request.resource} needs {"Effect":"Allow","Principal":${JSON.stringify(request.principal.kind === "service" ? { Service: request.principal.service } : "*")},"Action":"${request.action}","Resource":"${request.resource}"}`;
    const trustFailure = message.includes("could not assume");
    this.options.log(
      "iam",
      `${enforced ? "DENIED" : "warn: AWS would deny"} ${who}: ${request.action} on ${request.resource}${request.executionArn ? ` (execution ${request.executionArn})` : ""}; ${trustFailure ? message : fix}`,
    );
  }
}

/**
 * The action as the service spells it in its AccessDenied message: SQS in lower case ("sqs:sendmessage"), SNS
 * with its prefix in capitals ("SNS:Publish"); the others as the policy language names them.
 */
function spelledAsInMessages(action: string): string {
  if (action.startsWith("sqs:")) return action.toLowerCase();
  if (action.startsWith("sns:")) return `SNS:${action.slice(4)}`;
  return action;
}

/** Whether a statement could tell two sessions of a role apart: by aws:userid, or by naming an assumed-role session ARN. */
function namesSessions(statements: readonly SourcedStatement[]): boolean {
  return statements.some(({ statement }) => /aws:userid|assumed-role/i.test(JSON.stringify(statement)));
}
