#!/usr/bin/env node
// slvd: runs controller/daemon/main (compiled, or the sources through tsx: bin/launch.js).
import { importEntry } from './launch.js';

await importEntry('controller/daemon/main');
