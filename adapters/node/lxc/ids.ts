// A container's id range: 65,536 ids (uid and gid alike) derived from the sliver's xid, so it is
// the same after every restart, never overlaps another sliver's, and starts above the host's own
// ids (0-65535). newuidmap only maps ranges /etc/subuid and /etc/subgid grant to the starter
// (root), so the adapter keeps one `root:FIRST:65536` line per container in both files.
import { existsSync, readFileSync } from 'node:fs';
import { InvalidError } from '../../../resources/errors.js';
import { installFile } from '../posix/shells.js';

export const IDS_PER_CONTAINER = 65_536;
/** uid_t's largest valid id ((uid_t)-1 means "no id"). */
const MAX_ID = 4_294_967_294;
export const SUBID_FILES = ['etc/subuid', 'etc/subgid'] as const;

export interface IdRange {
  first: number;
  count: number;
}

/** `idBase + xid × 65536`, 65536 ids; refused when it would pass the largest uid. */
export function containerIdRange(xid: number, idBase: number): IdRange {
  const first = idBase + xid * IDS_PER_CONTAINER;
  const last = first + IDS_PER_CONTAINER - 1;
  if (!Number.isSafeInteger(xid) || xid < 1 || !Number.isSafeInteger(first) || last > MAX_ID) {
    const largest = Math.floor((MAX_ID - idBase + 1) / IDS_PER_CONTAINER) - 1;
    throw new InvalidError(`xid ${xid} has no container id range: with idBase ${idBase}, xids from 1 to ${largest} fit below uid ${MAX_ID}`, [{ field: 'uid', message: `must be in [1, ${largest}]` }]);
  }
  return { first, count: IDS_PER_CONTAINER };
}

export function subidLine(range: IdRange): string {
  return `root:${range.first}:${range.count}`;
}

/** `text` with `line` present (added at the end) or absent; other lines kept (blank ones dropped). */
export function withSubidLine(text: string, line: string, present: boolean): string {
  const others = text.split('\n').filter((l) => l !== '' && l !== line);
  const next = present ? [...others, line] : others;
  return next.length ? `${next.join('\n')}\n` : '';
}

/** Grant (or withdraw) root the range in <root>/etc/subuid and <root>/etc/subgid. */
export function setSubidGrant(root: string, range: IdRange, granted: boolean): void {
  for (const file of SUBID_FILES) {
    const path = `${root === '/' ? '' : root}/${file}`;
    const current = existsSync(path) ? readFileSync(path, 'utf8') : '';
    const next = withSubidLine(current, subidLine(range), granted);
    if (next !== current) installFile(root, file, next, 0o644);
  }
}
