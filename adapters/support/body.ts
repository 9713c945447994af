// Reading a request body with a size limit, for both HTTP APIs. An oversize body is read to its end
// and dropped, so a client that writes its whole request before reading the answer (Python's
// xmlrpc.client, curl) gets the refusal rather than a broken pipe; a body declared or sent beyond
// DRAIN_FACTOR times the limit is not worth reading: the connection is cut at once.
import type { IncomingMessage } from 'node:http';
import { SlvError } from '../../resources/errors.js';

const DRAIN_FACTOR = 64;

/** The body was larger than the limit; `drained` says whether it was read to the end (the connection may be reused). */
export class BodyTooLargeError extends SlvError {
  constructor(
    readonly limit: number,
    readonly drained: boolean,
  ) {
    super('RequestEntityTooLarge', `request body is larger than the limit of ${limit} bytes`);
  }
}

export function readBoundedBody(request: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(request.headers['content-length'] ?? 0);
  if (declared > limit * DRAIN_FACTOR) return Promise.reject(new BodyTooLargeError(limit, false));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let length = 0;
    request.on('data', (chunk: Buffer) => {
      length += chunk.length;
      if (length <= limit) chunks.push(chunk);
      else if (length > limit * DRAIN_FACTOR) {
        request.removeAllListeners('data');
        request.pause();
        reject(new BodyTooLargeError(limit, false));
      }
    });
    request.on('end', () => (length > limit ? reject(new BodyTooLargeError(limit, true)) : resolve(Buffer.concat(chunks))));
    request.on('error', reject);
  });
}
