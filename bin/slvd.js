#!/usr/bin/env node
// slvd: runs controller/slvd-main.ts through tsx's loader in this process.
import { register } from 'tsx/esm/api';

register();
await import('../controller/slvd-main.ts');
