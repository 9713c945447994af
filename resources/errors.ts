// The one errors module: every failure that crosses a boundary is one of these, so each entry
// point (slvd, slvctl, the REST API, the XML-RPC shim) can map it to an exit code, an HTTP status
// or a fault without string matching. An error made from another passes it as `{ cause }`, so the
// original (its stack, its errno) survives behind the clearer message.

/** Kubernetes `Status` reasons we use, with their HTTP codes. */
export const StatusReasons = {
  BadRequest: 400,
  Unauthorized: 401,
  Forbidden: 403,
  NotFound: 404,
  MethodNotAllowed: 405,
  NotAcceptable: 406,
  AlreadyExists: 409,
  Conflict: 409,
  Gone: 410,
  RequestEntityTooLarge: 413,
  UnsupportedMediaType: 415,
  Invalid: 422,
  InternalError: 500,
  ServiceUnavailable: 503,
  Timeout: 504,
} as const;
export type StatusReason = keyof typeof StatusReasons;

export interface StatusCause {
  field?: string;
  message: string;
}

/** Base class: an error with a Kubernetes-style reason, an HTTP code and optional causes. */
export class SlvError extends Error {
  readonly reason: StatusReason;
  readonly code: number;
  readonly causes: StatusCause[];
  constructor(reason: StatusReason, message: string, causes: StatusCause[] = [], options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
    this.reason = reason;
    this.code = StatusReasons[reason];
    this.causes = causes;
  }
  /** The Kubernetes `Status` body for this error. */
  toStatus(): StatusBody {
    return {
      apiVersion: 'v1',
      kind: 'Status',
      status: 'Failure',
      message: this.message,
      reason: this.reason,
      code: this.code,
      ...(this.causes.length ? { details: { causes: this.causes } } : {}),
    };
  }
}

export interface StatusBody {
  apiVersion: 'v1';
  kind: 'Status';
  status: 'Failure' | 'Success';
  message: string;
  reason: StatusReason;
  code: number;
  details?: { causes?: StatusCause[]; kind?: string; name?: string };
}

export class NotFoundError extends SlvError {
  constructor(kind: string, name: string) {
    super('NotFound', `${kind.toLowerCase()} "${name}" not found`);
  }
}
export class AlreadyExistsError extends SlvError {
  constructor(kind: string, name: string, message = `${kind.toLowerCase()} "${name}" already exists`) {
    super('AlreadyExists', message);
  }
}
/** A Sliver or Delegate create refused because the other kind holds the name: both are accounts, one namespace. */
export class AccountNameTakenError extends AlreadyExistsError {
  /** The kind of the object that holds the name. */
  readonly holder: string;
  constructor(kind: string, name: string, holder: string) {
    super(
      kind,
      name,
      `${kind.toLowerCase()} "${name}" cannot be created: ${holder.toLowerCase()} "${name}" holds the account name (slivers and delegates share one account namespace); delete it or choose another name`,
    );
    this.holder = holder;
  }
}
export class ConflictError extends SlvError {
  /** The object's current resourceVersion, so a client can re-read and retry. */
  readonly currentResourceVersion: string | undefined;
  constructor(kind: string, name: string, message: string, currentResourceVersion?: string) {
    super('Conflict', `Operation cannot be fulfilled on ${kind.toLowerCase()} "${name}": ${message}`);
    this.currentResourceVersion = currentResourceVersion;
  }
}
/** Schema violations and other invalid objects (HTTP 422). */
export class InvalidError extends SlvError {
  constructor(message: string, causes: StatusCause[] = [], options?: ErrorOptions) {
    super('Invalid', message, causes, options);
  }
}
export class BadRequestError extends SlvError {
  constructor(message: string, options?: ErrorOptions) {
    super('BadRequest', message, [], options);
  }
}
/** A watch asked for a revision older than the kept history: relist. */
export class GoneError extends SlvError {
  constructor(message: string, options?: ErrorOptions) {
    super('Gone', message, [], options);
  }
}
export class ForbiddenError extends SlvError {
  constructor(message: string, options?: ErrorOptions) {
    super('Forbidden', message, [], options);
  }
}
export class UnavailableError extends SlvError {
  constructor(message: string, options?: ErrorOptions) {
    super('ServiceUnavailable', message, [], options);
  }
}
/** The reference image a sliver names (its `vref`) is not on this node: an operator must install it. */
export class MissingImageError extends UnavailableError {
  constructor(
    readonly vref: string,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}
/**
 * A Unix socket path slvd cannot serve on: another server listens there, something that is not a
 * socket is in the way, or the directory lets other users replace the socket (an impostor could).
 */
export class SocketPathError extends SlvError {
  constructor(
    readonly path: string,
    problem: string,
    options?: ErrorOptions,
  ) {
    super('ServiceUnavailable', `cannot serve on the Unix socket ${path}: ${problem}`, [], options);
  }
}
/** A peer refused our credentials (PLC's fault 103): retrying with the same ones cannot help. */
export class UnauthorizedError extends SlvError {
  constructor(message: string, options?: ErrorOptions) {
    super('Unauthorized', message, [], options);
  }
}
/** The store's files cannot be used: corrupt, foreign, or not accessible. Nothing was changed. */
export class StorageError extends SlvError {
  constructor(message: string, options?: ErrorOptions) {
    super('InternalError', message, [], options);
  }
}
/**
 * The host is not in the state a node operation needs, or an operation left it in one it should not
 * (a tool's output that cannot be read, a process that survives SIGKILL, a path that leads elsewhere).
 */
export class NodeError extends SlvError {
  constructor(message: string, options?: ErrorOptions) {
    super('InternalError', message, [], options);
  }
}
/** Configuration or command-line usage errors (exit code 2 in the CLIs). */
export class UsageError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'UsageError';
  }
}
/** An OS command run by an adapter failed; the message quotes the command and its stderr. */
export class CommandError extends Error {
  readonly command: string;
  readonly exitCode: number | undefined;
  readonly stderr: string;
  constructor(command: string, exitCode: number | undefined, stderr: string, detail?: string, options?: ErrorOptions) {
    super(`command failed: ${command}${exitCode === undefined ? '' : ` (exit ${exitCode})`}${detail ? `: ${detail}` : ''}${stderr.trim() ? `: ${stderr.trim()}` : ''}`, options);
    this.name = 'CommandError';
    this.command = command;
    this.exitCode = exitCode;
    this.stderr = stderr;
  }
}
/** A reconcile failure that retrying cannot fix (the work queue does not back off and retry it). */
export class TerminalError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'TerminalError';
  }
}

/**
 * A broken invariant: a bug in slv, not bad input. The message says which rule was broken; nothing
 * a user sends should ever produce one.
 */
export class InvariantError extends SlvError {
  constructor(message: string, options?: ErrorOptions) {
    super('InternalError', message, [], options);
  }
}

/** A lifecycle state every long-lived part moves through once, in this order. */
export type LifecycleState = 'new' | 'starting' | 'running' | 'closing' | 'closed';

/** A part used in a state that does not allow it (started twice, used after close): a bug in the caller. */
export class IllegalStateError extends InvariantError {
  constructor(
    readonly part: string,
    readonly state: LifecycleState,
    action: string,
  ) {
    super(`cannot ${action}: ${part} is ${state}`);
  }
}

/** Process exit codes shared by slvd and slvctl. */
export const ExitCodes = {
  ok: 0,
  failure: 1,
  usage: 2,
  unavailable: 3,
  notFound: 4,
  conflict: 5,
  forbidden: 6,
  invalid: 7,
} as const;

export function exitCodeFor(e: unknown): number {
  if (e instanceof UsageError) return ExitCodes.usage;
  if (!(e instanceof SlvError)) return ExitCodes.failure;
  switch (e.reason) {
    case 'NotFound':
      return ExitCodes.notFound;
    case 'AlreadyExists':
    case 'Conflict':
      return ExitCodes.conflict;
    case 'Forbidden':
    case 'Unauthorized':
      return ExitCodes.forbidden;
    case 'Invalid':
    case 'BadRequest':
      return ExitCodes.invalid;
    case 'ServiceUnavailable':
      return ExitCodes.unavailable;
    default:
      return ExitCodes.failure;
  }
}
