// HTTP plumbing of the REST API: bounded body reading, parsed bodies, JSON and Status responses.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { parse as parseYaml } from 'yaml';
import { describeYamlError } from '../../../resources/documents.js';
import { BadRequestError, ConflictError, SlvError, type StatusBody } from '../../../resources/errors.js';
import { CONTENT_TYPES } from '../routes.js';

/** Requests larger than this are refused with 413 (an initscript may be 1 MiB; JSON escaping adds to it). */
export const MAX_BODY_BYTES = 3 * 1024 * 1024;

export function mediaType(req: IncomingMessage): string {
  return (req.headers['content-type'] ?? CONTENT_TYPES.json).split(';')[0]!.trim().toLowerCase();
}

function tooLarge(limit: number): SlvError {
  return new SlvError('RequestEntityTooLarge', `request body is larger than the limit of ${limit} bytes`);
}

/** The whole body, refusing (413) before reading when Content-Length says it is too large. */
export function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > limit) return Promise.reject(tooLarge(limit));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        req.removeAllListeners('data');
        req.resume();
        reject(tooLarge(limit));
      } else chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/** A body as JSON, or as YAML for the YAML media types. An empty body is undefined. */
export function parseBody(body: Buffer, type: string): unknown {
  const text = body.toString('utf8');
  if (!text.trim()) return undefined;
  if (type === CONTENT_TYPES.yaml || type === CONTENT_TYPES.applyYaml) {
    try {
      return parseYaml(text);
    } catch (error) {
      throw new BadRequestError(`request body is not valid YAML${describeYamlError(error as Error)}`, { cause: error });
    }
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new BadRequestError(`request body is not valid JSON: ${(error as Error).message}`, { cause: error });
  }
}

export function sendJson(res: ServerResponse, code: number, body: unknown): void {
  const text = `${JSON.stringify(body)}\n`;
  res.writeHead(code, { 'Content-Type': CONTENT_TYPES.json, 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
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
