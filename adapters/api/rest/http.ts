// HTTP plumbing of the REST API: parsed bodies, JSON and Status responses.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { parseJsonDocument, parseYamlDocument } from '../../../resources/documents.js';
import { ConflictError, SlvError, type StatusBody } from '../../../resources/errors.js';
import { CONTENT_TYPES, warningHeaderValue } from '../routes.js';

/** Requests larger than this are refused with 413 (an initscript may be 1 MiB; JSON escaping adds to it). */
export const MAX_BODY_BYTES = 3 * 1024 * 1024;

export function mediaType(req: IncomingMessage): string {
  return (req.headers['content-type'] ?? CONTENT_TYPES.json).split(';')[0]!.trim().toLowerCase();
}

/** A body as JSON, or as YAML for the YAML media types, in null-prototype objects (resources/documents.ts). An empty body is undefined. */
export function parseBody(body: Buffer, type: string): unknown {
  const text = body.toString('utf8');
  if (!text.trim()) return undefined;
  if (type === CONTENT_TYPES.yaml || type === CONTENT_TYPES.applyYaml) return parseYamlDocument(text, 'request body');
  return parseJsonDocument(text, 'request body');
}

export function sendJson(res: ServerResponse, code: number, body: unknown): void {
  const text = `${JSON.stringify(body)}\n`;
  res.writeHead(code, { 'Content-Type': CONTENT_TYPES.json, 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

/** Add a Kubernetes-style `Warning` header to the answer. */
export function addWarning(res: ServerResponse, text: string): void {
  const existing = res.getHeader('Warning');
  const value = warningHeaderValue(text);
  res.setHeader('Warning', existing === undefined ? value : [...(Array.isArray(existing) ? existing : [String(existing)]), value]);
}

export function sendText(res: ServerResponse, code: number, text: string, contentType = 'text/plain; charset=utf-8'): void {
  res.writeHead(code, { 'Content-Type': contentType, 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

/** The Kubernetes Status body of any error; a conflict names the current resourceVersion. */
export function statusOf(error: unknown): StatusBody {
  if (!(error instanceof SlvError)) {
    return { apiVersion: 'v1', kind: 'Status', status: 'Failure', message: `internal error: ${(error as Error)?.message ?? String(error)}`, reason: 'InternalError', code: 500 };
  }
  const status = error.toStatus();
  if (error instanceof ConflictError && error.currentResourceVersion !== undefined) {
    const cause = { field: 'metadata.resourceVersion', message: `current resourceVersion is ${error.currentResourceVersion}` };
    status.details = { ...status.details, causes: [...(status.details?.causes ?? []), cause] };
  }
  return status;
}

export function sendError(res: ServerResponse, error: unknown): void {
  const status = statusOf(error);
  if (res.headersSent) {
    res.destroy();
    return;
  }
  // After a refused body the rest of it is not read: close rather than reuse the connection.
  if (status.code === 413) res.setHeader('Connection', 'close');
  sendJson(res, status.code, status);
}
