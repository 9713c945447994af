// What status keeps of an init script's output: its last lines, bounded so one chatty script
// cannot bloat the store. Pure.

/** At most this many lines of an init script's output go to status. */
export const INIT_TAIL_LINES = 20;
/** And at most this many bytes (UTF-8) of them. */
export const INIT_TAIL_BYTES = 4096;

/** The last `maxLines` lines of `output` within `maxBytes` bytes, without a trailing newline; a line cut by the byte bound keeps its end. */
export function outputTail(output: string, maxLines = INIT_TAIL_LINES, maxBytes = INIT_TAIL_BYTES): string {
  const lines = output.replace(/\n+$/, '').split('\n').slice(-maxLines);
  let tail = lines.join('\n');
  while (Buffer.byteLength(tail) > maxBytes) {
    const cut = Buffer.from(tail).subarray(-maxBytes).toString('utf8');
    // A multi-byte character cut in half decodes to U+FFFD at the start: drop it.
    tail = cut.replace(/^\uFFFD/, '');
  }
  return tail;
}
