#!/usr/bin/env node
// slvctl: runs cli/main (bundled, compiled, or the sources through tsx: bin/launch.js) and exits with its code.
const { importEntry } = require('./launch.js');

// The installed launcher (bin/slvctl) moved NODE_EXTRA_CA_CERTS aside so Node would not read it at
// start: back in place for the programs slvctl runs, which see the environment as it was given.
if (process.env.SLV_NODE_EXTRA_CA_CERTS !== undefined) {
  process.env.NODE_EXTRA_CA_CERTS = process.env.SLV_NODE_EXTRA_CA_CERTS;
  delete process.env.SLV_NODE_EXTRA_CA_CERTS;
}
importEntry('cli/main', 'slvctl')
  .then(({ main }) => main(process.argv))
  .then((code) => process.exit(code));
