import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { statSync } from 'node:fs';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ErrorCode, isTsmrError } from '../errors.ts';
import { isHiddenName, resolveInputs, type ResolvedInputs } from './input-paths.ts';

let dir: string;

async function put(rel: string, content = 'x\n'): Promise<string> {
  const p = path.join(dir, rel);
  await mkdir(path.dirname(p), { recursive: true });
  await writeFile(p, content);
  return p;
}

before(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'tsmr-input-paths-'));
  await put('data/b.txt', 'bbb\n');
  await put('data/a.txt', 'a\n');
  await put('data/empty.txt', '');
  await put('data/sub/c.log', 'cc\n');
  await put('data/sub/deeper/d.txt');
  await put('data/.hidden');
  await put('data/_SUCCESS', '');
  await put('data/_temporary/attempts/part-r-00000');
  await put('data/.git/config');
  await put('data/sub/_logs/e.txt');
  await put('other/x.txt');
  await put('other/y.csv');
  await put('_underscored/z.txt');
  await mkdir(path.join(dir, 'emptydir/sub'), { recursive: true });
  await put('onlyhidden/.a');
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

const rel = ({ files }: ResolvedInputs) => files.map((f) => path.relative(dir, f.path));

function notFound(input: string) {
  return (e: unknown) => {
    assert.ok(isTsmrError(e), String(e));
    assert.equal(e.code, ErrorCode.INPUT_NOT_FOUND);
    assert.ok(e.message.includes(input), e.message);
    return true;
  };
}

describe('resolveInputs', () => {
  test('a directory is read recursively, skipping names starting with . or _', async () => {
    const files = await resolveInputs([path.join(dir, 'data')]);
    assert.deepEqual(rel(files), [
      'data/a.txt',
      'data/b.txt',
      'data/empty.txt',
      'data/sub/c.log',
      'data/sub/deeper/d.txt',
    ]);
    assert.deepEqual(
      files.files.map((f) => f.size),
      [2, 4, 0, 3, 2],
    );
    for (const f of files.files) {
      assert.ok(path.isAbsolute(f.path));
      assert.equal(f.mtimeMs, statSync(f.path).mtimeMs);
    }
    assert.deepEqual(files.skipped, [], 'hidden names are not listed as skipped');
  });

  test('files, directories and globs together: sorted and deduplicated', async () => {
    const files = await resolveInputs([
      path.join(dir, 'other'),
      path.join(dir, 'data/a.txt'),
      path.join(dir, 'data/*.txt'),
      path.join(dir, 'data/a.txt'),
    ]);
    assert.deepEqual(rel(files), [
      'data/a.txt',
      'data/b.txt',
      'data/empty.txt',
      'other/x.txt',
      'other/y.csv',
    ]);
  });

  test('relative paths resolve against the current directory', async () => {
    const relative = path.relative(process.cwd(), path.join(dir, 'other/x.txt'));
    const [file] = (await resolveInputs([relative])).files;
    assert.equal(file.path, path.join(dir, 'other/x.txt'));
  });

  test('globs: **, braces, a matched directory is listed, matched hidden names are skipped', async () => {
    assert.deepEqual(rel(await resolveInputs([path.join(dir, 'data/**/*.txt')])), [
      'data/a.txt',
      'data/b.txt',
      'data/empty.txt',
      'data/sub/deeper/d.txt',
    ]);
    assert.deepEqual(rel(await resolveInputs([path.join(dir, 'other/*.{csv,tsv}')])), ['other/y.csv']);
    assert.deepEqual(
      rel(await resolveInputs([path.join(dir, 'da*')])),
      rel(await resolveInputs([path.join(dir, 'data')])),
    );
    const underscored = path.join(dir, '*/z.txt'); // only matches _underscored/z.txt
    await assert.rejects(resolveInputs([underscored]), notFound(underscored));
  });

  test('a literal leading directory starting with _ is read; a named hidden file is kept', async () => {
    assert.deepEqual(rel(await resolveInputs([path.join(dir, '_underscored/*.txt')])), [
      '_underscored/z.txt',
    ]);
    assert.deepEqual(rel(await resolveInputs([path.join(dir, '_underscored')])), ['_underscored/z.txt']);
    assert.deepEqual(rel(await resolveInputs([path.join(dir, 'data/.hidden')])), ['data/.hidden']);
  });

  test('missing paths, empty directories and globs matching nothing are TSMR_INPUT_NOT_FOUND', async () => {
    const missing = path.join(dir, 'nope.txt');
    await assert.rejects(resolveInputs([path.join(dir, 'data'), missing]), notFound(missing));
    const emptyDir = path.join(dir, 'emptydir');
    await assert.rejects(resolveInputs([emptyDir]), notFound(emptyDir));
    const hiddenOnly = path.join(dir, 'onlyhidden');
    await assert.rejects(resolveInputs([hiddenOnly]), notFound(hiddenOnly));
    const pattern = path.join(dir, 'data/*.parquet');
    await assert.rejects(resolveInputs([pattern]), notFound(pattern));
    const noBase = path.join(dir, 'missing-dir/*.txt');
    await assert.rejects(resolveInputs([noBase]), notFound(noBase));
  });

  test('a glob matching only files another input listed is not an error', async () => {
    const files = await resolveInputs([path.join(dir, 'other'), path.join(dir, 'other/*.csv')]);
    assert.deepEqual(rel(files), ['other/x.txt', 'other/y.csv']);
  });

  test('symbolic links are followed; a cycle is listed once; a dangling link is skipped', async () => {
    const root = path.join(dir, 'links');
    await put('links/real/f.txt');
    await symlink(path.join(root, 'real'), path.join(root, 'alias'));
    await symlink(root, path.join(root, 'real/loop'));
    await symlink(path.join(root, 'missing'), path.join(root, 'dangling'));
    const files = await resolveInputs([root]);
    // `alias` and `real` are one directory, listed once, under the name that sorts first.
    assert.deepEqual(rel(files), ['links/alias/f.txt']);
    assert.deepEqual(files.skipped, [{ path: path.join(root, 'dangling'), reason: 'dangling symlink' }]);
  });

  test('FIFOs, dangling and looping links in a directory are skipped and listed; hidden ones are not', async () => {
    const root = path.join(dir, 'special');
    await put('special/a.txt');
    execFileSync('mkfifo', [
      path.join(root, 'pipe'),
      path.join(root, '.hidden-pipe'),
      path.join(root, 'pipe.txt'),
    ]);
    await symlink(path.join(root, 'nowhere'), path.join(root, 'dangling.txt'));
    await symlink(path.join(root, 'loop-b'), path.join(root, 'loop-a'));
    await symlink(path.join(root, 'loop-a'), path.join(root, 'loop-b'));
    await symlink(path.join(root, 'nowhere'), path.join(root, '_hidden-link'));
    await symlink(path.join(root, 'pipe'), path.join(root, 'link-to-pipe'));
    const listed = await resolveInputs([root]);
    assert.deepEqual(rel(listed), ['special/a.txt']);
    assert.deepEqual(
      listed.skipped.map((s) => [path.relative(dir, s.path), s.reason]),
      [
        ['special/dangling.txt', 'dangling symlink'],
        ['special/link-to-pipe', 'fifo'],
        ['special/loop-a', 'symlink loop'],
        ['special/loop-b', 'symlink loop'],
        ['special/pipe', 'fifo'],
        ['special/pipe.txt', 'fifo'],
      ],
    );
    // tinyglobby leaves FIFOs and dangling links out of a glob's matches itself.
    assert.deepEqual(rel(await resolveInputs([path.join(root, '*.txt')])), ['special/a.txt']);
  });

  test('no inputs give no files', async () => {
    assert.deepEqual(await resolveInputs([]), { files: [], skipped: [] });
  });

  test('isHiddenName', () => {
    assert.equal(isHiddenName('.git'), true);
    assert.equal(isHiddenName('_SUCCESS'), true);
    assert.equal(isHiddenName('part-r-00000'), false);
    assert.equal(isHiddenName('a_b.txt'), false);
  });
});
