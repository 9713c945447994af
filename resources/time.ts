// Time as Kubernetes writes it in objects: RFC 3339 in UTC, whole seconds ("2024-05-01T12:00:00Z").

/** The Kubernetes timestamp of `ms` milliseconds since the epoch (the second it falls in). */
export function kubernetesTimestamp(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}
