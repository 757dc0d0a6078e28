/**
 * Issue 11's features on a cluster of real processes (`tsmr coordinator` and
 * two `tsmr worker`s on loopback, shared by every test): total order and
 * TeraSort, secondary sort, a reduce-side join of two inputs with a side
 * file, skip mode (on files and on uploaded in-memory input), a streaming job
 * with `--file`, map-only jobs and a pipeline. Each runs on the cluster and
 * locally with the same options, and the part files (and `_skipped/`) must
 * be byte-identical: the coordinator plans as `runJob` does, the workers run
 * the same task runner.
 */
import assert from 'node:assert/strict';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  collectResults,
  type JobReport,
  type PipelineReport,
  runJob,
  runPipeline,
  type RunOptions,
} from '../src/index.ts';
import topWords from './fixtures/jobs/pipeline-top-words.ts';
import { CLUSTER_TOKEN, TestCluster } from './support/cluster.ts';
import { repoRoot, runCli } from './support/run-cli.ts';

const fixture = (name: string): string => join(repoRoot, 'test/fixtures/jobs', name);

let tmp = '';
let runs = 0;
/** A new directory name under the test's temporary directory. */
const fresh = (name: string): string => join(tmp, `${name}-${runs++}`);

/**
 * Every file of `dir` but `_job.json` (it holds ids and times), by relative
 * path, with its bytes; in `_skipped/`, the errors' ` (on worker <id>)` (a
 * cluster worker adds it to its failures) is left out.
 */
function outputOf(dir: string): Map<string, Buffer> {
  const files = new Map<string, Buffer>();
  for (const entry of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile() || entry.name === '_job.json') continue;
    const path = join(entry.parentPath, entry.name);
    const name = path.slice(dir.length + 1);
    const bytes = readFileSync(path);
    files.set(
      name,
      name.startsWith('_skipped/') ? Buffer.from(bytes.toString().replace(/ \(on worker w\d\)/g, '')) : bytes,
    );
  }
  return new Map([...files].sort(([a], [b]) => (a < b ? -1 : 1)));
}

function assertSameOutput(cluster: string, local: string): void {
  const [c, l] = [outputOf(cluster), outputOf(local)];
  assert.deepEqual([...c.keys()], [...l.keys()]);
  for (const [name, bytes] of l) assert.ok(c.get(name)!.equals(bytes), `${name} differs`);
  assert.ok(
    [...l.keys()].some((n) => n.startsWith('part-')),
    'some part files',
  );
}

/** Lines `n,text` with many equal numbers (skew) and negative ones. */
function numberLines(n: number): string {
  let x = 5;
  const next = (): number => (x = (Math.imul(x, 1103515245) + 12345) >>> 0) >>> 8;
  return Array.from({ length: n }, (_, i) => `${i % 4 === 0 ? 77 : (next() % 2001) - 1000},t${i}\n`).join('');
}

describe('cluster mode: total order, TeraSort, secondary sort, joins, skip mode, streaming --file, map-only, pipelines', () => {
  let cluster: TestCluster;
  before(async () => {
    tmp = mkdtempSync(join(tmpdir(), 'tsmr-cluster-features-'));
    cluster = await new TestCluster({ workers: 2, slots: 1 }).start();
  });
  after(async () => {
    await cluster.stop();
    rmSync(tmp, { recursive: true, force: true });
  });

  /** Runs `job` on the cluster and locally with the same options (outputs in new directories). */
  async function both(
    job: string,
    options: Omit<RunOptions, 'output'>,
  ): Promise<{ cluster: string; local: string; report: JobReport; localReport: JobReport }> {
    const [c, l] = [fresh('cluster'), fresh('local')];
    const report = await runJob(job, {
      ...options,
      output: c,
      coordinator: cluster.url,
      token: CLUSTER_TOKEN,
      speculation: false,
    }).done.catch((error: Error) => {
      throw new Error(`${error.message}\n${cluster.logs()}`, { cause: error });
    });
    const localReport = await runJob(job, { ...options, output: l, workers: 2 }).done;
    return { cluster: c, local: l, report, localReport };
  }

  test('total order (the job’s totalOrder(), and totalOrder in the options): parts concatenated sorted, as local', async () => {
    const input = fresh('numbers');
    mkdirSync(input);
    writeFileSync(join(input, 'a.txt'), numberLines(3000));
    writeFileSync(join(input, 'b.txt'), numberLines(2000));
    const {
      cluster: c,
      local,
      report,
    } = await both(fixture('sort-numbers.ts'), {
      input,
      reducers: 3,
      splitSize: 8 * 1024,
      totalOrder: { samples: 500 },
    });
    assertSameOutput(c, local);
    assert.ok(
      report.phases.sample !== undefined && report.totalOrder !== undefined,
      'sampled on the cluster',
    );
    const keys = [...outputOf(c)]
      .filter(([n]) => n.startsWith('part-r-'))
      .flatMap(([, b]) => b.toString().trimEnd().split('\n'))
      .map((l) => Number(l.slice(0, l.indexOf('\t'))));
    assert.equal(keys.length, 5000);
    for (let i = 1; i < keys.length; i++) assert.ok(keys[i - 1]! <= keys[i]!, `key ${i} in order`);
    const sizes = [...outputOf(c)].filter(([n]) => n.startsWith('part-r-')).map(([, b]) => b.length);
    assert.ok(
      sizes.every((s) => s > 0),
      `the heavy key does not take every record: ${sizes}`,
    );
  });

  test('TeraSort of teragen output with tsmr submit: teravalidate passes, parts as local', async () => {
    const input = fresh('tera-in');
    const gen = await runCli(['teragen', '5000', input, '--files', '2']);
    assert.equal(gen.code, 0, gen.stderr);
    const [c, local] = [fresh('tera-cluster'), fresh('tera-local')];
    const flags = ['-i', input, '--reducers', '3', '--split-size', '64k', '-q'];
    const submitted = await runCli([
      'submit',
      'examples/terasort.ts',
      ...flags,
      '-o',
      c,
      '--coordinator',
      cluster.url,
      '--token-file',
      cluster.tokenFile,
      '--wait',
    ]);
    assert.equal(submitted.code, 0, submitted.stderr + cluster.logs());
    const ran = await runCli(['run', 'examples/terasort.ts', ...flags, '-o', local, '-w', '2']);
    assert.equal(ran.code, 0, ran.stderr);
    assertSameOutput(c, local);
    const valid = await runCli(['teravalidate', c, '--input', input, '--json']);
    assert.equal(valid.code, 0, valid.stdout + valid.stderr);
    assert.deepEqual(
      (({ ok, records }) => ({ ok, records }))(JSON.parse(valid.stdout) as { ok: boolean; records: number }),
      { ok: true, records: 5000 },
    );
  });

  test('secondary sort (groupBy): each user’s times in order, as local', async () => {
    const input = fresh('visits');
    mkdirSync(input);
    let x = 3;
    const next = (): number => (x = (Math.imul(x, 1103515245) + 12345) >>> 0);
    for (const f of ['a', 'b']) {
      const lines = Array.from({ length: 2000 }, () => `u${next() % 50} ${next() % 1000}\n`);
      writeFileSync(join(input, `${f}.txt`), lines.join(''));
    }
    const { cluster: c, local } = await both(fixture('visits-in-time-order.ts'), {
      input,
      reducers: 2,
      splitSize: 8 * 1024,
    });
    assertSameOutput(c, local);
  });

  test('a reduce-side join of two inputs with their own maps, and a side file (files, ctx.file), as local', async () => {
    const dict = join(fresh('dict'));
    writeFileSync(
      dict,
      ';;; a comment\nCAT  K AE1 T\nBANANA  B AH0 N AE1 N AH0\nTHE  DH AH0\nZEBRA  Z IY1 B R AH0\n',
    );
    const corpus = fresh('corpus');
    mkdirSync(corpus);
    const words = ['cat', 'the', 'banana', 'zebra', 'dog'];
    for (let f = 0; f < 3; f++) {
      const lines = Array.from({ length: 300 }, (_, i) =>
        JSON.stringify({ text: `${words[(i * (f + 2)) % 5]} ${words[i % 5]}` }),
      );
      writeFileSync(join(corpus, `p${f}.jsonl`), `${lines.join('\n')}\n`);
    }
    const stop = fresh('stop');
    writeFileSync(stop, 'the\n');
    const {
      cluster: c,
      local,
      report,
    } = await both(fixture('join-syllables.ts'), {
      reducers: 2,
      splitSize: 4096,
      params: { dict, corpus },
      files: [`${stop}#stop.txt`],
    });
    assertSameOutput(c, local);
    assert.deepEqual(report.settings.inputs, [dict, corpus]);
    const joined = [...outputOf(c)].flatMap(([n, b]) =>
      n.startsWith('part-') ? b.toString().trimEnd().split('\n') : [],
    );
    assert.deepEqual(joined.map((l) => l.split('\t').slice(0, 2).join(' ')).sort(), [
      'banana 3',
      'cat 1',
      'zebra 2',
    ]);
  });

  test('skip mode on files: the bad records in _skipped/, as local', async () => {
    const input = fresh('bad');
    mkdirSync(input);
    writeFileSync(join(input, 'a.txt'), 'alpha\nb BOOM\ngamma\n');
    writeFileSync(join(input, 'b.txt'), 'BOOM\nzeta\neta BOOM\ntheta\n');
    const {
      cluster: c,
      local,
      report,
    } = await both(fixture('fail-on-record.ts'), {
      input,
      reducers: 2,
      skipBadRecords: 3,
      maxAttempts: 1,
    });
    assertSameOutput(c, local);
    assert.equal(report.skippedRecords?.count, 3);
    assert.equal(
      [...outputOf(c)]
        .filter(([n]) => n.startsWith('_skipped/'))
        .flatMap(([, b]) => b.toString().trimEnd().split('\n')).length,
      3,
    );
  });

  test('skip mode on uploaded in-memory input: every attempt skips what failed before, on any worker', async () => {
    const items = Array.from({ length: 3000 }, (_, i) => (i % 700 === 5 ? `BOOM ${i}` : `item ${i % 97}`));
    const options = {
      input: { records: items },
      reducers: 2,
      splitSize: 8 * 1024,
      skipBadRecords: 10,
      maxAttempts: 1,
    };
    const handle = runJob(fixture('fail-on-record.ts'), {
      ...options,
      coordinator: cluster.url,
      token: CLUSTER_TOKEN,
      speculation: false,
    });
    const results = await collectResults(handle);
    const report = await handle.done;
    // Named by the coordinator's uploaded file, not by a worker's copy of it.
    assert.ok(
      report.skippedRecords?.listed.every((r) => r.file.startsWith(join(cluster.dir, 'coordinator'))),
      JSON.stringify(report.skippedRecords?.listed.map((r) => r.file)),
    );
    assert.equal(report.skippedRecords?.count, 5);
    assert.deepEqual(
      report.skippedRecords?.listed.map((r) => r.index),
      [5, 705, 1405, 2105, 2805],
    );
    assert.deepEqual(
      results,
      await collectResults(runJob(fixture('fail-on-record.ts'), { ...options, workers: 0 })),
    );
  });

  test('a streaming job with --file: the scripts are linked into the command’s directory, locally and on the cluster', async () => {
    const input = fresh('text');
    mkdirSync(input);
    writeFileSync(join(input, 'a.txt'), 'the cat sat\non the mat\n');
    writeFileSync(join(input, 'b.txt'), 'the end\n');
    const flags = [
      '--mapper',
      './wc_map.sh',
      '--reducer',
      'sh wc_reduce.sh',
      '--file',
      'test/fixtures/streaming/wc_map.sh',
      '--file',
      'test/fixtures/streaming/wc_reduce.sh',
      '-i',
      input,
      '-r',
      '2',
      '-q',
    ];
    const [c, local] = [fresh('streaming-cluster'), fresh('streaming-local')];
    const submitted = await runCli([
      'submit',
      ...flags,
      '-o',
      c,
      '--coordinator',
      cluster.url,
      '--token-file',
      cluster.tokenFile,
      '--wait',
    ]);
    assert.equal(submitted.code, 0, submitted.stderr + cluster.logs());
    const ran = await runCli(['run', ...flags, '-o', local]);
    assert.equal(ran.code, 0, ran.stderr);
    assertSameOutput(c, local);
    const counts = [...outputOf(c)].flatMap(([n, b]) =>
      n.startsWith('part-') ? b.toString().trimEnd().split('\n') : [],
    );
    assert.deepEqual(counts.sort(), ['cat\t1', 'end\t1', 'mat\t1', 'on\t1', 'sat\t1', 'the\t3']);
  });

  test('a map-only job: each map attempt commits part-m-NNNNN, as local; without output, results() as local', async () => {
    const input = fresh('lines');
    mkdirSync(input);
    for (let f = 0; f < 2; f++) {
      writeFileSync(
        join(input, `in-${f}.txt`),
        Array.from({ length: 80 }, (_, i) => `line ${i} of ${f}\n`).join(''),
      );
    }
    const { cluster: c, local, report } = await both(fixture('upper-lines.ts'), { input, splitSize: 512 });
    assertSameOutput(c, local);
    assert.equal(report.settings.reducers, 0);
    assert.equal(report.phases.reduce, undefined);
    assert.ok(
      [...outputOf(c).keys()].filter((n) => n.startsWith('part-m-')).length > 2,
      'several map tasks wrote parts',
    );
    const handle = runJob(fixture('upper-lines.ts'), {
      input,
      splitSize: 512,
      coordinator: cluster.url,
      token: CLUSTER_TOKEN,
    });
    const got = await collectResults(handle);
    assert.equal(got.length, 160);
    assert.deepEqual(
      got,
      await collectResults(runJob(fixture('upper-lines.ts'), { input, splitSize: 512, workers: 0 })),
    );
  });

  test('a pipeline on the cluster: each step a cluster job, intermediate outputs on the shared file system, removed', async () => {
    const input = fresh('genres');
    mkdirSync(input);
    const genres = ['fiction', 'news', 'poetry'];
    const words = ['a', 'b', 'c', 'd', 'e'];
    writeFileSync(
      join(input, 'in.txt'),
      Array.from({ length: 600 }, (_, i) => `${genres[i % 3]} ${words[(i * i) % 5]}\n`).join(''),
    );
    const [c, local] = [fresh('pipeline-cluster'), fresh('pipeline-local')];
    const options = { input, reducers: 2, splitSize: 2048, params: { top: 3 } };
    const report = await runPipeline(topWords, {
      ...options,
      output: c,
      coordinator: cluster.url,
      token: CLUSTER_TOKEN,
    }).done;
    await runPipeline(topWords, { ...options, output: local, workers: 2 }).done;
    assertSameOutput(c, local);
    assert.deepEqual(
      report.steps.map((s) => s.report.settings.output),
      [report.steps[0]!.report.settings.output, c],
    );
    // Step 1 wrote next to the output, where every worker reads it; it is gone.
    const intermediate = report.steps[0]!.report.settings.output!;
    assert.match(intermediate, new RegExp(`^${tmp}/tsmr-job-pipeline-[^/]+/steps/1-count$`));
    assert.ok(!existsSync(dirname(dirname(intermediate))), 'the pipeline’s scratch directory is removed');
    const jobFile = JSON.parse(readFileSync(join(c, '_job.json'), 'utf8')) as PipelineReport;
    assert.deepEqual([jobFile.kind, jobFile.status, jobFile.steps.length], ['pipeline', 'succeeded', 2]);

    const kept = fresh('pipeline-kept');
    await runPipeline(topWords, {
      ...options,
      output: kept,
      keepIntermediate: true,
      coordinator: cluster.url,
      token: CLUSTER_TOKEN,
    }).done;
    assert.ok(
      readdirSync(join(kept, '_steps', '1-count')).some((n) => n.startsWith('part-r-')),
      'the first step’s output kept',
    );
  });
});
