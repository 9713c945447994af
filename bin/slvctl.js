#!/usr/bin/env node
// slvctl: runs cli/main.ts through tsx's loader in this process and exits with its code.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../cli/main.ts');
process.exit(await main(process.argv));
