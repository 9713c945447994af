// Pure rules of whole-core scheduling (`cpu_cores`, as today's node manager's core scheduler):
// slivers asking for N cores get N CPUs of their own; what is left is shared by everyone else. One
// CPU always stays shared (system slices and slivers without cores must run somewhere), so a
// request that does not fit gets what is left, down to none. A best-effort sliver (`Nb`) also runs
// on the shared CPUs.
import { InvalidError } from './errors.js';
import type { CpuCores } from '../schemas/types.js';

export interface CoreRequest {
  name: string;
  cores: CpuCores;
}

export interface CoreAllocation {
  /** Each sliver's CPUs (every sliver asked about, with or without cores). */
  bySliver: Map<string, number[]>;
  /** The CPUs nobody reserved: the set of slivers without cores. */
  shared: number[];
  /** Slivers that got fewer cores than asked, with how many they got. */
  shortOf: Map<string, number>;
}

/** `0-2,5` → [0, 1, 2, 5], as cpuset.cpus writes it; a malformed list is an InvalidError naming it. */
export function parseCpuList(text: string): number[] {
  const cpus = new Set<number>();
  const trimmed = text.trim();
  if (trimmed === '') return [];
  for (const part of trimmed.split(',')) {
    const match = /^(\d+)(?:-(\d+))?$/.exec(part);
    const first = match ? Number(match[1]) : NaN;
    const last = match?.[2] !== undefined ? Number(match[2]) : first;
    if (!match || last < first)
      throw new InvalidError(`invalid CPU list ${JSON.stringify(text)}: expected numbers and ranges like 0-3,5`, [{ field: 'cpus', message: `bad part ${JSON.stringify(part)}` }]);
    for (let cpu = first; cpu <= last; cpu++) cpus.add(cpu);
  }
  return [...cpus].sort((a, b) => a - b);
}

/** [0, 1, 2, 5] → `0-2,5`. */
export function formatCpuList(cpus: readonly number[]): string {
  const sorted = [...new Set(cpus)].sort((a, b) => a - b);
  const parts: string[] = [];
  for (let i = 0; i < sorted.length; ) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j]! + 1) j++;
    parts.push(i === j ? String(sorted[i]) : `${sorted[i]}-${sorted[j]}`);
    i = j + 1;
  }
  return parts.join(',');
}

/**
 * Share out `available` CPUs: the largest requests first (then by name, so the answer does not
 * depend on listing order), lowest CPUs first, always leaving one CPU shared.
 */
export function allocateCores(available: readonly number[], requests: readonly CoreRequest[]): CoreAllocation {
  const free = [...new Set(available)].sort((a, b) => a - b);
  const reserved = new Map<string, number[]>();
  const shortOf = new Map<string, number>();
  const asking = requests.filter((request) => request.cores.count > 0).sort((a, b) => b.cores.count - a.cores.count || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const { name, cores } of asking) {
    const granted = free.splice(0, Math.max(0, Math.min(cores.count, free.length - 1)));
    if (granted.length < cores.count) shortOf.set(name, granted.length);
    if (granted.length > 0) reserved.set(name, granted);
  }
  const bySliver = new Map<string, number[]>();
  for (const { name, cores } of requests) {
    const own = reserved.get(name);
    bySliver.set(name, own === undefined ? [...free] : cores.bestEffort ? [...own, ...free].sort((a, b) => a - b) : own);
  }
  return { bySliver, shared: free, shortOf };
}
