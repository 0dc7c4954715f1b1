/**
 * What a failed Kubernetes API request means, in one line, for every caller (the
 * metadata reflectors on client-node, the pod log source on raw HTTP): 401 and 403 are
 * configuration errors that name the request and the RBAC rule to add, 404 says what the
 * server does not serve, anything else is reported as it came.
 */
import { InputError } from '../core/input-error.ts';

/** One request, as RBAC spells it: what a refusal names and `kubectl auth can-i` checks. */
export interface KubeRequest {
  /** The API server URL, first in every message. */
  server: string;
  verb: string;
  /** The resource as RBAC spells it, with its subresource: `pods`, `pods/log`. */
  resource: string;
  /** API group as RBAC spells it ("" for core). */
  group: string;
  /** Undefined: cluster scope. */
  namespace?: string | undefined;
}

/** What the caller needs granted altogether (the hint names it all, not just the refused verb). */
export interface AccessGrant {
  role: 'Role' | 'ClusterRole';
  rules: ReadonlyArray<{ group: string; resource: string; verbs: readonly string[] }>;
}

/** A non-2xx answer, shaped as client-node's errors are (`statusCode`, `body`), so one reader serves both. */
export class KubeStatusError extends Error {
  constructor(
    readonly statusCode: number,
    readonly body: unknown,
  ) {
    super(`HTTP ${statusCode}: ${statusMessage(body) ?? ''}`);
  }
}

interface HttpishError {
  code?: unknown;
  statusCode?: unknown;
  body?: unknown;
  message?: string;
}

/** The HTTP status of a failed request: client-node's ApiException (`code`), its Watch (`statusCode`) or ours. */
export function httpStatus(err: unknown): number | undefined {
  const e = err as HttpishError;
  if (typeof e?.statusCode === 'number') return e.statusCode;
  if (typeof e?.code === 'number') return e.code;
  return undefined;
}

/** The `message` of a Kubernetes `Status` body, else the body's start. */
export function statusMessage(body: unknown): string | undefined {
  if (typeof body === 'string') {
    try {
      return statusMessage(JSON.parse(body) as unknown);
    } catch {
      return body.slice(0, 300) || undefined;
    }
  }
  const msg = (body as { message?: unknown } | undefined)?.message;
  return typeof msg === 'string' ? msg : undefined;
}

export interface KubeFailure {
  status: number | undefined;
  message: string;
  /** How to fix it, where we can tell. */
  hint: string | undefined;
}

function rbacName(resource: string, group: string): string {
  return `${resource}${group ? `.${group}` : ''}`;
}

function grantHint(request: KubeRequest, grant: AccessGrant): string {
  const rules = grant.rules.map((r) => `verbs [${r.verbs.join(', ')}] on resource "${r.resource}" in apiGroup "${r.group}"`).join(' and ');
  const role = grant.role === 'Role' && request.namespace ? `Role in namespace ${request.namespace}` : grant.role;
  const scope = request.namespace ? ` -n ${request.namespace}` : '';
  return `grant ${rules} to kovenant's ${role}; check with: kubectl auth can-i ${request.verb} ${rbacName(request.resource, request.group)}${scope} --as system:serviceaccount:NAMESPACE:NAME`;
}

/** One line that says what failed and, where we can tell, what to change. */
export function describeKubeFailure(err: unknown, request: KubeRequest, grant: AccessGrant): KubeFailure {
  const what = `${request.verb} ${rbacName(request.resource, request.group)}${request.namespace ? ` in namespace ${request.namespace}` : ''}`;
  const status = httpStatus(err);
  const detail = statusMessage((err as HttpishError)?.body);
  const because = detail ? ` (${detail})` : '';
  const server = request.server;
  switch (status) {
    case 401:
      return {
        status,
        message: `${server}: unauthorized to ${what}${because}`,
        hint: 'the credentials of the kubeconfig or service account are not accepted: check the token or client certificate',
      };
    case 403:
      return { status, message: `${server}: forbidden to ${what}${because}`, hint: grantHint(request, grant) };
    case 404:
      return {
        status,
        message: `${server}: not found: ${what}${because}`,
        hint: 'the object is gone, or this API server does not serve the resource (check its Kubernetes version with kubectl api-resources)',
      };
    case undefined: {
      const code = (err as HttpishError)?.code;
      const message = (err as Error)?.message?.split('\n')[0] ?? String(err);
      return { status, message: `${server}: ${what}: ${typeof code === 'string' ? `${code} ` : ''}${message}`, hint: undefined };
    }
    default:
      return { status, message: `${server}: ${what}: HTTP ${status}${detail ? ` ${detail}` : ''}`, hint: undefined };
  }
}

/** The failure as one line: message, then the hint. */
export function kubeFailureLine(f: KubeFailure): string {
  return f.hint ? `${f.message}; ${f.hint}` : f.message;
}

/** 401 and 403 are configuration, not weather: retrying does not fix them. */
export function isAccessDenied(status: number | undefined): boolean {
  return status === 401 || status === 403;
}

/** A refused request as the user-facing error (exit 2): the message and its RBAC hint. */
export function kubeAccessError(f: KubeFailure): InputError {
  return new InputError(f.message, f.hint);
}
