import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { isTsmrError, TsmrError } from '../errors.ts';
import { createLogger, DEFAULT_LOG_LEVEL } from './logger.ts';

const dir = mkdtempSync(join(tmpdir(), 'tsmr-logger-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function readLines(path: string): Array<Record<string, unknown>> {
  return readFileSync(path, 'utf8')
    .trimEnd()
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

/** Runs `fn` with `TSMR_LOG_LEVEL` set to `value` (or unset), restoring it after. */
function withEnvLevel<T>(value: string | undefined, fn: () => T): T {
  const saved = process.env.TSMR_LOG_LEVEL;
  if (value === undefined) delete process.env.TSMR_LOG_LEVEL;
  else process.env.TSMR_LOG_LEVEL = value;
  try {
    return fn();
  } finally {
    if (saved === undefined) delete process.env.TSMR_LOG_LEVEL;
    else process.env.TSMR_LOG_LEVEL = saved;
  }
}

describe('createLogger', () => {
  it('writes JSON lines at the level asked, with child bindings and serialized errors', () => {
    const path = join(dir, 'nested', 'a.log');
    const log = createLogger({ level: 'info', destination: path });
    const task = log.child({ jobId: 'j-1' }).child({ taskId: 'm-00001', attempt: 2 });
    task.debug('not written');
    task.info({ records: 10 }, 'attempt started');
    const cause = new Error('disk full');
    task.error({ err: new TsmrError('TSMR_IO', 'cannot write spill', { cause }) }, 'attempt failed');
    const lines = readLines(path); // sync writes by default: already on disk
    assert.equal(lines.length, 2);
    assert.deepEqual(
      { ...lines[0], time: 0, pid: 0, hostname: '' },
      {
        level: 30,
        time: 0,
        pid: 0,
        hostname: '',
        name: 'tsmr',
        jobId: 'j-1',
        taskId: 'm-00001',
        attempt: 2,
        records: 10,
        msg: 'attempt started',
      },
    );
    const err = lines[1]!.err as Record<string, unknown>;
    assert.equal(lines[1]!.level, 50);
    assert.equal(err.code, 'TSMR_IO');
    assert.match(String(err.message), /cannot write spill/);
    assert.match(String(err.stack), /TsmrError: cannot write spill/);
  });

  it('appends to an existing file', () => {
    const path = join(dir, 'b.log');
    createLogger({ level: 'warn', destination: path }).warn('one');
    createLogger({ level: 'warn', destination: path }).warn('two');
    assert.deepEqual(
      readLines(path).map((l) => l.msg),
      ['one', 'two'],
    );
  });

  it('takes its level from TSMR_LOG_LEVEL, else warn', () => {
    assert.equal(DEFAULT_LOG_LEVEL, 'warn');
    assert.equal(
      withEnvLevel(undefined, () => createLogger({ destination: join(dir, 'c.log') }).level),
      'warn',
    );
    assert.equal(
      withEnvLevel('DEBUG', () => createLogger({ destination: join(dir, 'c.log') }).level),
      'debug',
    );
    assert.equal(
      withEnvLevel('', () => createLogger({ destination: join(dir, 'c.log') }).level),
      'warn',
    );
    // An explicit level wins over the environment.
    assert.equal(
      withEnvLevel('trace', () => createLogger({ level: 'error', destination: join(dir, 'c.log') }).level),
      'error',
    );
    assert.equal(createLogger({ level: 'silent', destination: join(dir, 'c.log') }).level, 'silent');
  });

  it('rejects an unknown level with TSMR_USAGE, naming where it came from', () => {
    assert.throws(
      () => withEnvLevel('loud', () => createLogger({ destination: join(dir, 'd.log') })),
      (e: unknown) => isTsmrError(e) && e.code === 'TSMR_USAGE' && /TSMR_LOG_LEVEL "loud"/.test(e.message),
    );
    assert.throws(
      () => createLogger({ level: 'verbose', destination: join(dir, 'd.log') }),
      (e: unknown) => isTsmrError(e) && /log level "verbose"/.test(e.message),
    );
  });

  it('writes to stderr by default', async () => {
    const { spawnSync } = await import('node:child_process');
    const script = `import { createLogger } from ${JSON.stringify(new URL('./logger.ts', import.meta.url).href)};
      createLogger().child({ worker: 'w1' }).warn('to stderr'); createLogger().info('hidden');`;
    const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
      encoding: 'utf8',
      env: { ...process.env, TSMR_LOG_LEVEL: '' },
    });
    assert.equal(child.status, 0, child.stderr);
    assert.equal(child.stdout, '');
    const lines = child.stderr
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.deepEqual(
      lines.map((l) => [l.worker, l.msg]),
      [['w1', 'to stderr']],
    );
  });
});
