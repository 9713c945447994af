import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseClassCounters } from '../../../../../adapters/net/bwlimit/tc.js';

// `tc -s class show dev DEV` as iproute2 6.1 prints it.
const SHOWN = `class htb 1:1 root rate 50Mbit ceil 50Mbit burst 1600b cburst 1600b 
 Sent 123456789 bytes 9000 pkt (dropped 0, overlimits 12 requeues 0) 
 backlog 0b 0p requeues 0
 lended: 0 borrowed: 0 giants: 0
 tokens: 4000 ctokens: 4000

class htb 1:11 parent 1:1 prio 0 rate 8bit ceil 2Mbit burst 1600b cburst 1600b 
 Sent 4200 bytes 3 pkt (dropped 0, overlimits 0 requeues 0) 
 backlog 0b 0p requeues 0
 lended: 0 borrowed: 3 giants: 0
 tokens: -1 ctokens: 100

class htb 1:8011 parent 1:3 prio 0 rate 8bit ceil 6Mbit burst 1600b cburst 1600b 
 Sent 0 bytes 0 pkt (dropped 0, overlimits 0 requeues 0) 
 backlog 0b 0p requeues 0
`;

test('class counters are read by minor from tc -s class show', () => {
  assert.deepEqual(
    parseClassCounters(SHOWN),
    new Map([
      [0x1, 123_456_789],
      [0x11, 4200],
      [0x8011, 0],
    ]),
  );
  assert.deepEqual(parseClassCounters(''), new Map());
});
