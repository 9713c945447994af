// prom-client's metric classes, each loaded from its own file: the package's index also loads its
// default metrics (process, heap, event loop, ...) and, for them, @opentelemetry/api, ~100 ms of CPU
// at every start of slvd, and slv collects none of them. prom-client has no "exports" map, so these
// paths are its public files; the same file the index loads, so a Registry from either is one class.
// test/integration/controller/daemon/lazy-packages.test.ts keeps the index out.
import { createRequire } from 'node:module';
import type * as PromClient from 'prom-client';

const load = createRequire(import.meta.url);

export const Registry = load('prom-client/lib/registry.js') as typeof PromClient.Registry;
export type Registry<T extends PromClient.RegistryContentType = PromClient.PrometheusContentType> = PromClient.Registry<T>;
export const Counter = load('prom-client/lib/counter.js') as typeof PromClient.Counter;
export type Counter<T extends string = string> = PromClient.Counter<T>;
export const Gauge = load('prom-client/lib/gauge.js') as typeof PromClient.Gauge;
export type Gauge<T extends string = string> = PromClient.Gauge<T>;
export const Histogram = load('prom-client/lib/histogram.js') as typeof PromClient.Histogram;
export type Histogram<T extends string = string> = PromClient.Histogram<T>;
