/**
 * tsmr as a user's project gets it: `npm pack` (which builds `dist/`), the
 * tarball installed by npm into a new project outside the repository, and
 * the project of `test/fixtures/user-project/` (the README's job and program,
 * a JavaScript program, type-level tests) run and type-checked on that
 * install: the `tsmr` command through `npx`, programs that start worker
 * threads (so the built worker entries run), and `tsc` against the package's
 * `.d.ts` files. The project's dependencies come from the npm registry, as a
 * user's do (`--prefer-offline`: from npm's cache when it has them, which
 * `npm ci` of this repository fills with the same packages).
 */
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { readParts, repoRoot } from './support/run-cli.ts';
import { runCommand } from './support/shell.ts';

const manifest = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as {
  version: string;
  devDependencies: Record<string, string>;
};

let tmp = '';
let project = '';
let packed: { filename: string; files: { path: string }[] };

/** Runs a command in the project (or in `cwd`). */
function run(command: string, args: string[], cwd = project): Promise<{ stdout: string; stderr: string }> {
  return runCommand(command, args, cwd);
}

/** Access log lines `GET <path> <status> <bytes>`, made up deterministically. */
function accessLog(file: number, lines: number): string {
  const statuses = ['200', '200', '200', '301', '404', '500'];
  let text = '';
  for (let i = 0; i < lines; i++) {
    text += `GET /page/${file}/${i} ${statuses[(i * 7 + file) % statuses.length]} ${(i * 7919) % 5000}\n`;
  }
  return text;
}

/** What job.ts computes over `logs/`, computed here: `status\tN requests, B bytes`, in key order. */
function expectedLines(logs: string[]): string[] {
  const totals = new Map<string, { requests: number; bytes: number }>();
  for (const line of logs.join('').split('\n')) {
    const [, , status, bytes] = line.split(' ');
    if (status === undefined) continue;
    const t = totals.get(status) ?? { requests: 0, bytes: 0 };
    t.requests += 1;
    t.bytes += Number(bytes);
    totals.set(status, t);
  }
  return [...totals]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([status, t]) => `${status}\t${t.requests} requests, ${t.bytes} bytes`);
}

let expected: string[] = [];

before(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'tsmr-package-'));
  const { stdout } = await run('npm', ['pack', '--json', '--pack-destination', tmp], repoRoot);
  [packed] = JSON.parse(stdout) as (typeof packed)[];

  project = join(tmp, 'project');
  cpSync(join(repoRoot, 'test/fixtures/user-project'), project, { recursive: true });
  writeFileSync(
    join(project, 'package.json'),
    JSON.stringify({ name: 'tsmr-user', version: '1.2.3', private: true, type: 'module' }),
  );
  const logs = [accessLog(0, 3000), accessLog(1, 2000)];
  mkdirSync(join(project, 'logs'));
  logs.forEach((text, i) => writeFileSync(join(project, 'logs', `access-${i}.log`), text));
  expected = expectedLines(logs);

  const dev = manifest.devDependencies;
  await run('npm', [
    'install',
    '--prefer-offline',
    '--no-audit',
    '--no-fund',
    join(tmp, packed.filename),
    `typescript@${dev.typescript}`,
    `@types/node@${dev['@types/node']}`,
  ]);
});
after(() => rmSync(tmp, { recursive: true, force: true }));

test('the tarball holds the built package (dist/ JavaScript and .d.ts), the bin and the README; no sources, no tests', () => {
  const paths = packed.files.map((f) => f.path).sort();
  for (const path of paths) {
    assert.match(path, /^(dist\/.+\.(js|d\.ts)|bin\/tsmr\.js|package\.json|README\.md)$/);
    assert.doesNotMatch(path, /\.test\.|fixtures|test-support|\.bench\./);
  }
  for (const entry of ['dist/index.js', 'dist/index.d.ts', 'dist/cli/main.js', 'dist/task/worker.js']) {
    assert.ok(paths.includes(entry), `${entry} is packed`);
  }
  assert.ok(paths.includes('dist/batch/thread-worker.js'));
});

test('npx tsmr run job.ts: the TypeScript job of the project, importing tsmr, on all cores', async () => {
  await run('npx', ['tsmr', 'run', 'job.ts', '--input', 'logs', '--output', 'out/traffic']);
  const out = join(project, 'out/traffic');
  const report = JSON.parse(readFileSync(join(out, '_job.json'), 'utf8')) as { status: string };
  assert.equal(report.status, 'succeeded');
  const { names, lines } = readParts(out);
  assert.ok(names.length >= 1);
  assert.deepEqual(lines, expected);
  for (const name of names) {
    const own = readFileSync(join(out, name), 'latin1').split('\n').slice(0, -1);
    assert.deepEqual(own, [...own].sort(), `${name} is sorted by key`);
  }
});

test('npx tsmr report --html: the installed package bundles its dashboard front end from dist/', async () => {
  const out = join(project, 'out/traffic');
  await run('npx', ['tsmr', 'report', join(out, '_job.json'), '--html', join(out, 'report.html')]);
  const html = readFileSync(join(out, 'report.html'), 'utf8');
  const report = JSON.parse(readFileSync(join(out, '_job.json'), 'utf8')) as { jobId: string };
  assert.ok(html.includes('<script type="application/json" id="tsmr-data">'));
  assert.ok(html.includes(report.jobId));
  assert.ok(html.includes('Leon Sorokin'), 'uPlot is in the bundle');
});

test('npx tsmr --version is the package version, not the project version', async () => {
  const { stdout } = await run('npx', ['tsmr', '--version']);
  assert.equal(stdout.trim(), manifest.version);
});

test('a TypeScript program (run.ts): runJob on worker threads and collectResults, in key order', async () => {
  const { stdout } = await run(process.execPath, ['run.ts']);
  assert.deepEqual(stdout.split('\n').slice(0, -1), expected);
});

test('a JavaScript program (run.mjs): runJob by module path, and runBatch on worker threads', async () => {
  const { stdout } = await run(process.execPath, ['run.mjs']);
  const { results, lengths } = JSON.parse(stdout) as { results: [string, string][]; lengths: number[] };
  assert.deepEqual(
    results.map(([status, summary]) => `${status}\t${summary}`),
    expected,
  );
  assert.deepEqual(lengths, [1, 2, 3]);
});

test('npx tsc --noEmit type-checks the project against the installed .d.ts (typed values, @ts-expect-error cases)', async () => {
  await run('npx', ['tsc', '--noEmit']);
});
