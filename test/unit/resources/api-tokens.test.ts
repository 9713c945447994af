// The HTTPS listener's token file (kube-apiserver's --token-auth-file format) and the Authorization header.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bearerToken, MIN_TOKEN_LENGTH, parseTokenFile } from '../../../resources/api-tokens.js';
import { UsageError } from '../../../resources/errors.js';

const ROOT_TOKEN = 'r'.repeat(MIN_TOKEN_LENGTH);
const SLIVER_TOKEN = 'A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6+/=._~-';

test('a token file: token,user,uid lines; blank lines, comments and spaces around fields skipped', () => {
  const text = `# operators\n${ROOT_TOKEN},root,0\n\n  ${SLIVER_TOKEN} , mit_ron , 1001  \n`;
  assert.deepEqual(parseTokenFile(text, 'tokens.csv'), [
    { token: ROOT_TOKEN, user: 'root', uid: 0 },
    { token: SLIVER_TOKEN, user: 'mit_ron', uid: 1001 },
  ]);
  assert.deepEqual(parseTokenFile('# nobody yet\n', 'tokens.csv'), []);
});

test('a bad line refuses the whole file, naming the line and what is wrong but never the token', () => {
  const refusals: [string, RegExp][] = [
    [`${ROOT_TOKEN},root`, /line 2: expected token,user,uid, got 2 fields$/],
    [`${ROOT_TOKEN},root,0,"admins"`, /line 2: expected token,user,uid, got 4 fields \(groups are not used/],
    ['short,root,0', new RegExp(`line 2: the token is shorter than ${MIN_TOKEN_LENGTH} characters`)],
    [`${'x'.repeat(40)}!,root,0`, /line 2: the token may only hold letters, digits and/],
    [`${SLIVER_TOKEN},Mit Ron,1001`, /line 2: user "Mit Ron" is not an account name/],
    [`${SLIVER_TOKEN},mit_ron,-1`, /line 2: uid "-1" is not a uid/],
    [`${SLIVER_TOKEN},mit_ron,4294967295`, /line 2: uid "4294967295" is not a uid/],
    [`${SLIVER_TOKEN},mit_ron,0`, /line 2: uid 0 is "root", and "root" is uid 0 \(got user "mit_ron", uid 0\)/],
    [`${SLIVER_TOKEN},root,1001`, /line 2: uid 0 is "root", and "root" is uid 0/],
    [`${ROOT_TOKEN},alice,1002`, /line 2: the same token as line 1: a token must name one identity/],
  ];
  for (const [line, expected] of refusals) {
    assert.throws(
      () => parseTokenFile(`${ROOT_TOKEN},root,0\n${line}\n`, 'tokens.csv'),
      (error: unknown) => {
        assert.ok(error instanceof UsageError);
        assert.match(error.message, /^tokens\.csv line 2: /);
        assert.match(error.message, expected);
        assert.ok(!error.message.includes(ROOT_TOKEN) && !error.message.includes(SLIVER_TOKEN), `a token in: ${error.message}`);
        return true;
      },
      line,
    );
  }
});

test('the token of an Authorization header: the Bearer scheme in any case, one token', () => {
  assert.equal(bearerToken(`Bearer ${SLIVER_TOKEN}`), SLIVER_TOKEN);
  assert.equal(bearerToken(`bearer  ${SLIVER_TOKEN}`), SLIVER_TOKEN);
  assert.equal(bearerToken(undefined), undefined);
  assert.equal(bearerToken(''), undefined);
  assert.equal(bearerToken(`Basic ${SLIVER_TOKEN}`), undefined);
  assert.equal(bearerToken('Bearer'), undefined);
  assert.equal(bearerToken(`Bearer ${SLIVER_TOKEN} extra`), undefined);
});
