import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { compatibleVersions, tsmrVersion, versionRefusal } from './tsmr-version.ts';

test("tsmrVersion is the version in tsmr's package.json", () => {
  const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8'));
  assert.equal(tsmrVersion(), pkg.version);
  assert.equal(tsmrVersion(), pkg.version);
});

test('versions with the same major.minor are compatible, whatever the patch or prerelease', () => {
  const cases: [string, string, boolean][] = [
    ['1.4.0', '1.4.7', true],
    ['1.4.0', '1.5.0', false],
    ['1.4.0', '2.4.0', false],
    ['0.3.1', '0.3.9', true],
    ['0.3.1', '0.4.1', false],
    ['0.1.0', '1.1.0', false],
    ['0.2.0-rc.1', '0.2.3', true],
    ['0.2.0+build.5', '0.2.0', true],
    ['0.2', '0.2.0', false],
    ['', '0.2.0', false],
    ['v0.2.0', '0.2.0', false],
  ];
  for (const [a, b, expected] of cases) {
    assert.equal(compatibleVersions(a, b), expected, `${a} ~ ${b}`);
    assert.equal(compatibleVersions(b, a), expected, `${b} ~ ${a}`);
  }
});

test('the refusal names both versions and what to do', () => {
  assert.equal(versionRefusal('0.1.4', '0.1.0'), undefined);
  assert.equal(
    versionRefusal('0.2.0', '0.1.0'),
    'worker runs tsmr 0.2.0, coordinator 0.1.0: install the same major.minor on every machine',
  );
});
