// Prometheus metrics registered once per registry: a part rebuilt in the same process (a server
// restarted, the PLC sync on SIGHUP) shares the metric already there instead of failing to register it twice.
import type { Registry } from 'prom-client';

/** The metric `name` of `registry` if there is one, else `create()` (which registers it). */
export function registeredMetric<T>(registry: Registry, name: string, create: () => T): T {
  return (registry.getSingleMetric(name) as T | undefined) ?? create();
}
