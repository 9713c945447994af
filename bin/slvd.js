#!/usr/bin/env node
// slvd: runs controller/daemon/main (compiled, or the sources through tsx: bin/launch.js).
const { importEntry } = require('./launch.js');

void importEntry('controller/daemon/main');
