// A container's root filesystem: the shared image, seen through an idmapped read-only bind mount
// (so the image's root-owned files belong to the container's root, while the image on disk stays
// as it is), under an overlayfs whose upper layer holds everything the sliver writes. A hundred
// slivers of one image cost one image plus their own changes: VServer's unified copy-on-write.
// The mounts live in the host's namespace, made by slvd (root); LXC bind-mounts the merged tree.
import { chownSync, existsSync, mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { runCommand } from '../../support/exec.js';
import { isMountPoint } from '../posix/mounts.js';
import type { IdRange } from './ids.js';

export interface RootfsPaths {
  /** The idmapped view of the image: the overlay's lower layer. */
  lower: string;
  /** The sliver's own changes. */
  upper: string;
  /** overlayfs's scratch directory (same filesystem as upper). */
  work: string;
  /** What the container sees as `/`. */
  merged: string;
}

export function rootfsPaths(containerDir: string): RootfsPaths {
  return { lower: join(containerDir, 'image'), upper: join(containerDir, 'upper'), work: join(containerDir, 'work'), merged: join(containerDir, 'rootfs') };
}

/**
 * Mount what is not mounted yet (after a reboot, nothing is): the idmapped image, then the overlay.
 * The upper layer's top directory belongs to the container's root, as `/` inside must.
 */
export async function mountRootfs(paths: RootfsPaths, image: string, range: IdRange, idmapMount: string): Promise<void> {
  for (const dir of [paths.lower, paths.upper, paths.work, paths.merged]) mkdirSync(dir, { recursive: true, mode: 0o755 });
  const upper = statSync(paths.upper);
  if (upper.uid !== range.first || upper.gid !== range.first) chownSync(paths.upper, range.first, range.first);
  if (!isMountPoint(paths.lower)) await runCommand(idmapMount, [image, paths.lower, String(range.first), String(range.count)]);
  if (!isMountPoint(paths.merged)) {
    await runCommand('/usr/bin/mount', ['-t', 'overlay', 'overlay', '-o', `lowerdir=${paths.lower},upperdir=${paths.upper},workdir=${paths.work}`, paths.merged]);
  }
}

/** Unmount the overlay, then the image view; what is not mounted is skipped. */
export async function unmountRootfs(paths: RootfsPaths): Promise<void> {
  for (const dir of [paths.merged, paths.lower]) if (existsSync(dir) && isMountPoint(dir)) await runCommand('/usr/bin/umount', [dir]);
}
