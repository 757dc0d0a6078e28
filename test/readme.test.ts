/**
 * The README says only what works. Every command of its `sh` code blocks has
 * an entry in the table below: either a check, and the command is run here,
 * as written, in a copy of the repository made of symbolic links (so that
 * what it writes, `out/…`, stays out of the work tree), or the test or
 * script that runs it. A command added to the README without an entry fails,
 * and so does an entry whose command left the README. Code blocks that name
 * a file on their first line (`// job.ts`) must show that file, and relative
 * links must resolve.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { readParts, repoRoot } from './support/run-cli.ts';
import { runCommand, userEnv } from './support/shell.ts';

type Coverage =
  /** Run here in the copy of the repository, then `check(copy)`. */
  | { check: (copy: string) => void }
  /** Run by `file`: the test named `test` there, or (a script) a line of it. */
  | { by: string; test?: string };

const readme = readFileSync(join(repoRoot, 'README.md'), 'utf8');

/** The body of each code block of the given language, in order. */
function codeBlocks(language: string): string[] {
  return [...readme.matchAll(/^```(\w*)\n([\s\S]*?)^```$/gm)]
    .filter((m) => m[1] === language)
    .map((m) => m[2]);
}

/** The commands of a shell block: continuation lines joined, comments and blank lines left out, spaces collapsed. */
function commandsOf(block: string): string[] {
  return block
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((line) =>
      line
        .replace(/(^|\s)#.*$/, '')
        .replace(/\s+/g, ' ')
        .trim(),
    )
    .filter((line) => line !== '');
}

const commands = codeBlocks('sh').flatMap(commandsOf);

/** An output directory of a job that succeeded: its `word\tcount` lines, sorted by bytes. */
function succeeded(out: string): string[] {
  assert.ok(existsSync(join(out, '_SUCCESS')), `${out}/_SUCCESS`);
  const report = JSON.parse(readFileSync(join(out, '_job.json'), 'utf8')) as { status: string };
  assert.equal(report.status, 'succeeded');
  return readParts(out).lines;
}

/** Words (runs of bytes that are not ASCII whitespace) in the files under `dir`, counted here. */
function wordsUnder(dir: string): number {
  let words = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile() || entry.name.startsWith('.')) continue;
    const text = readFileSync(join(entry.parentPath, entry.name), 'latin1');
    words += text.split(/[ \t\n\v\f\r]+/).filter((w) => w !== '').length;
  }
  return words;
}

/** Sum of the counts of `word\tcount` lines. */
function total(lines: string[]): number {
  return lines.reduce((sum, line) => sum + Number(line.slice(line.lastIndexOf('\t') + 1)), 0);
}

const packageTest = 'test/package.test.ts';
const localCluster = 'test/cluster-local.test.ts';
const coverage: Record<string, Coverage> = {
  'npm ci': { by: '.ci/run' },
  'npm test': { by: '.ci/run' },
  'npm run example:wordcount': {
    check(copy) {
      assert.equal(total(succeeded(join(copy, 'out/wordcount'))), wordsUnder(join(copy, '.data/corpus')));
    },
  },
  'npx tsmr run examples/quickstart.ts --input .data/corpus/brown --output out/wc --overwrite': {
    check(copy) {
      assert.equal(total(succeeded(join(copy, 'out/wc'))), wordsUnder(join(copy, '.data/corpus/brown')));
    },
  },
  'npx tsmr run --mapper test/fixtures/streaming/wc_map.sh --combiner test/fixtures/streaming/wc_reduce.sh --reducer test/fixtures/streaming/wc_reduce.sh --input .data/corpus/brown --output out/wc-streaming --reducers 4':
    {
      check(copy) {
        const lines = succeeded(join(copy, 'out/wc-streaming'));
        assert.equal(readParts(join(copy, 'out/wc-streaming')).names.length, 4);
        assert.deepEqual(lines, succeeded(join(copy, 'out/wc')), 'the same counts as the quickstart job');
      },
    },
  'npx tsmr teragen 100000 out/tera-in': {
    check(copy) {
      const parts = readdirSync(join(copy, 'out/tera-in')).filter((f) => f.startsWith('part-m-'));
      const bytes = parts.reduce((n, f) => n + readFileSync(join(copy, 'out/tera-in', f)).length, 0);
      assert.equal(bytes, 100000 * 100);
    },
  },
  'npx tsmr run examples/terasort.ts --input out/tera-in --output out/tera-out': {
    check(copy) {
      assert.ok(existsSync(join(copy, 'out/tera-out/_SUCCESS')));
      const sorted = readdirSync(join(copy, 'out/tera-out'))
        .filter((f) => f.startsWith('part-r-'))
        .sort()
        .map((f) => readFileSync(join(copy, 'out/tera-out', f), 'latin1'))
        .join('');
      const records = sorted.match(/[^]{100}/g) ?? [];
      assert.equal(records.length, 100000);
      for (let i = 1; i < records.length; i++)
        assert.ok(records[i - 1]! <= records[i]!, `record ${i} in order`);
    },
  },
  'npx tsmr teravalidate out/tera-out --input out/tera-in': {
    by: 'test/terasort.test.ts',
    test: 'teragen → terasort',
  },
  'npx tsmr cluster start --workers 3': { by: localCluster, test: 'the README walk-through' },
  'npx tsmr submit examples/wordcount.ts --input .data/corpus/brown --output out/wc-cluster --reducers 3 --wait':
    {
      by: localCluster,
      test: 'the README walk-through',
    },
  'npx tsmr status --workers': { by: localCluster, test: 'the README walk-through' },
  'npx tsmr cluster stop': { by: localCluster, test: 'the README walk-through' },
  'npm pack': { by: packageTest, test: 'the tarball holds the built package' },
  'npm install ../tsmr/tsmr-0.1.0.tgz': { by: packageTest, test: 'the tarball holds the built package' },
  'npm install --save-dev typescript @types/node': { by: packageTest, test: 'npx tsc --noEmit type-checks' },
  'npx tsmr run job.ts --input logs --output out/traffic': { by: packageTest, test: 'npx tsmr run job.ts' },
  'npx tsc --noEmit': { by: packageTest, test: 'npx tsc --noEmit type-checks' },
  'node run.ts': { by: packageTest, test: 'a TypeScript program (run.ts)' },
};

test('every command of the README has an entry in the table, and every entry is a command of the README', () => {
  assert.ok(commands.length > 0, 'the README has sh blocks');
  assert.deepEqual(
    commands.filter((c) => !(c in coverage)),
    [],
    'README commands that no test runs: add them to the table of test/readme.test.ts',
  );
  assert.deepEqual(
    Object.keys(coverage).filter((c) => !commands.includes(c)),
    [],
    'table entries that are not README commands',
  );
});

test('the tests and scripts named by the table run the commands', () => {
  for (const [command, entry] of Object.entries(coverage)) {
    if (!('by' in entry)) continue;
    const text = readFileSync(join(repoRoot, entry.by), 'utf8');
    if (entry.test === undefined) {
      assert.match(text, new RegExp(`^${command}( |$)`, 'm'), `${entry.by} runs ${command}`);
    } else {
      assert.ok(text.includes(`test('${entry.test}`), `${entry.by} has the test "${entry.test}…"`);
    }
  }
});

test('code blocks that name a file show that file (after its leading comment)', () => {
  const files: Record<string, string> = {
    'examples/quickstart.ts': 'examples/quickstart.ts',
    'job.ts': 'test/fixtures/user-project/job.ts',
    'run.ts': 'test/fixtures/user-project/run.ts',
  };
  const named = codeBlocks('ts').filter((block) => /^\/\/ [\w./-]+\.ts\n/.test(block));
  assert.deepEqual(
    named.map((block) => block.slice(3, block.indexOf('\n'))).sort(),
    Object.keys(files).sort(),
  );
  for (const block of named) {
    const file = files[block.slice(3, block.indexOf('\n'))];
    const code = readFileSync(join(repoRoot, file), 'utf8').replace(/^(\/\/.*\n)+/, '');
    assert.equal(block.slice(block.indexOf('\n') + 1), code, `the README shows ${file}`);
  }
});

test('relative links resolve: files of the repository, headings of the README', () => {
  const headings = new Set(
    [...readme.matchAll(/^#+ (.+)$/gm)].map((m) =>
      m[1]
        .toLowerCase()
        .replace(/[^\w\- ]/g, '')
        .replace(/ /g, '-'),
    ),
  );
  for (const [, target] of readme.matchAll(/\]\(([^)]+)\)/g)) {
    if (/^[a-z]+:/.test(target)) continue;
    if (target.startsWith('#')) assert.ok(headings.has(target.slice(1)), `heading ${target}`);
    else assert.ok(existsSync(join(repoRoot, target.replace(/#.*$/, ''))), `file ${target}`);
  }
});

describe('README commands, run as written in a copy of the repository', () => {
  let copy = '';
  /**
   * `npx tsmr` in a clone installs a link to the clone into npm's cache
   * (`_npx/<hash of the path>`): the copy's commands get a cache of their
   * own, so that the user's keeps no entry for a removed copy.
   */
  let env: NodeJS.ProcessEnv = {};
  before(() => {
    copy = mkdtempSync(join(tmpdir(), 'tsmr-readme-'));
    for (const name of ['package.json', 'bin', 'src', 'examples', 'bench', 'test', 'node_modules', '.data']) {
      symlinkSync(join(repoRoot, name), join(copy, name));
    }
    env = { ...userEnv, npm_config_cache: join(copy, '.npm') };
  });
  after(() => rmSync(copy, { recursive: true, force: true }));

  for (const command of commands) {
    const entry = coverage[command];
    if (entry === undefined || !('check' in entry)) continue;
    test(command, async () => {
      await runCommand('sh', ['-c', command], copy, env);
      entry.check(copy);
    });
  }
});
