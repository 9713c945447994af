#!/usr/bin/env node
// slvd: runs controller/daemon/main.ts through tsx's loader in this process.
import { register } from 'tsx/esm/api';

register();
await import('../controller/daemon/main.ts');
