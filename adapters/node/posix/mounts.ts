// The mount table, read from /proc/self/mountinfo: which directories are mount points, and which
// mount a path lives on.
import { readFileSync } from 'node:fs';

/** Every mount point, octal escapes (`\040` for a space) decoded. */
export function mountPoints(): string[] {
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((line) => line.split(' ')[4])
    .filter((mount): mount is string => mount !== undefined)
    .map((mount) => mount.replace(/\\(\d{3})/g, (_, octal: string) => String.fromCharCode(parseInt(octal, 8))));
}

/** The mount point `path` lives on (the longest matching one). */
export function mountPointOf(path: string): string {
  const matches = mountPoints().filter((mount) => mount === '/' || path === mount || path.startsWith(`${mount}/`));
  return matches.reduce((longest, mount) => (mount.length > longest.length ? mount : longest), '/');
}

export function isMountPoint(path: string): boolean {
  return mountPoints().includes(path);
}
