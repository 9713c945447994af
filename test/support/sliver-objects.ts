// A Sliver as the tests write one: PLC's fields with neutral values, overridden where a test cares.
// Light on purpose (types only), so pure unit tests and the heavy harnesses share it.
import { API_VERSION, type ObjectMeta, type Sliver, type SliverSpec } from '../../schemas/types.js';

export function sliverSpec(overrides: Partial<SliverSpec> = {}): SliverSpec {
  return {
    type: 'sliver.VServer',
    instantiation: 'plc-instantiated',
    keys: [],
    initscript: '',
    rspec: {},
    delegations: [],
    timestamp: 100,
    attributes: {},
    ...overrides,
  };
}

/** A Sliver named `name` without server-set metadata (a manifest, or what a test hands the store). */
export function sliverObject(name: string, spec: Partial<SliverSpec> = {}, metadata: Partial<ObjectMeta> = {}): Sliver {
  return { apiVersion: API_VERSION, kind: 'Sliver', metadata: { name, ...metadata }, spec: sliverSpec(spec) };
}
