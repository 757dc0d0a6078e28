import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const GEN = 'src/runtime/cluster/gen';

function files(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const entry of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const full = path.join(entry.parentPath, entry.name);
    out.set(path.relative(dir, full), readFileSync(full, 'utf8'));
  }
  return out;
}

test('npm run proto (buf lint + buf generate) reproduces the committed generated code byte for byte', (t) => {
  const out = mkdtempSync(path.join(tmpdir(), 'tsmr-proto-'));
  t.after(() => rmSync(out, { recursive: true, force: true }));
  // `npm run proto -- --output <dir>` runs the script with buf's output base moved to <dir>.
  execFileSync('npm', ['run', '--silent', 'proto', '--', '--output', out], { cwd: root, stdio: 'pipe' });
  const fresh = files(path.join(out, GEN));
  const committed = files(path.join(root, GEN));
  assert.deepEqual([...fresh.keys()].sort(), [...committed.keys()].sort());
  assert.ok(fresh.size >= 8, 'a .js and a .d.ts per .proto file');
  for (const [name, text] of fresh)
    assert.equal(text, committed.get(name), `${name} differs: run npm run proto`);
});
