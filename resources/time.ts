// Time as Kubernetes writes it in objects: RFC 3339 in UTC, whole seconds ("2024-05-01T12:00:00Z").

// Every write and every status condition asks for the current second: formatting it once per
// second saves a Date, an ISO string and a replace per call.
let lastSecond = Number.NaN;
let lastTimestamp = '';

/** The Kubernetes timestamp of `ms` milliseconds since the epoch (the second it falls in). */
export function kubernetesTimestamp(ms: number): string {
  const second = Math.floor(ms / 1000);
  if (second !== lastSecond) {
    lastTimestamp = new Date(second * 1000).toISOString().replace('.000Z', 'Z');
    lastSecond = second;
  }
  return lastTimestamp;
}
