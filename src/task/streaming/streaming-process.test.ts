import assert from 'node:assert/strict';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { SHIP_FILE_MAX_BYTES, shipFiles, StreamingProcess } from './streaming-process.ts';

test('shipFiles copies relative files named in the command, nothing else', (t) => {
  const base = mkdtempSync(join(tmpdir(), 'tsmr-ship-base-'));
  const scratch = mkdtempSync(join(tmpdir(), 'tsmr-ship-scratch-'));
  t.after(() => {
    rmSync(base, { recursive: true, force: true });
    rmSync(scratch, { recursive: true, force: true });
  });
  mkdirSync(join(base, 'lib'));
  for (const name of ['map.py', 'lib/words.txt', 'out.txt', 'sort', '-n'])
    writeFileSync(join(base, name), name);
  writeFileSync(join(base, 'huge.bin'), Buffer.alloc(SHIP_FILE_MAX_BYTES + 1));
  const shipped = shipFiles(
    `python3 ./map.py "lib/words.txt" | sort -n | cat huge.bin ../x lib $HOME/y 'a b' > out.txt`,
    base,
    scratch,
  );
  assert.deepEqual(shipped.sort(), ['lib/words.txt', 'map.py', 'out.txt', 'sort'].sort());
  assert.equal(readFileSync(join(scratch, 'lib/words.txt'), 'utf8'), 'lib/words.txt');
  assert.ok(lstatSync(join(scratch, 'out.txt')).isFile(), 'a copy, not a link');
  assert.equal(existsSync(join(scratch, 'huge.bin')), false);
  assert.equal(existsSync(join(scratch, '-n')), false);
});

test('destroy kills a running command and removes its scratch directory', async () => {
  const p = new StreamingProcess({
    command: 'cat',
    role: 'map',
    env: {},
    onStdout: () => {},
    reporter: { counter: () => {}, status: () => {} },
    taskId: 'm-00000',
    attempt: 0,
  });
  assert.ok(existsSync(p.scratchDir));
  p.destroy();
  assert.equal(existsSync(p.scratchDir), false);
  await assert.rejects(
    async () => p.finish(),
    (e: Error) => /killed by signal SIGKILL/.test(e.message),
  );
});
