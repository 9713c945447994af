#!/usr/bin/env node
// slvd: runs controller/daemon/main (bundled, compiled, or the sources through tsx: bin/launch.js).
const { importEntry } = require('./launch.js');

void importEntry('controller/daemon/main', 'slvd');
