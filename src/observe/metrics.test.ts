import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isTsmrError } from '../errors.ts';
import { escapeHelp, escapeLabelValue, formatSampleValue, renderPrometheus } from './metrics.ts';

describe('renderPrometheus', () => {
  it('renders counters and gauges with HELP, TYPE and labelled samples', () => {
    const text = renderPrometheus([
      {
        name: 'tsmr_attempts_total',
        help: 'Task attempts started.',
        type: 'counter',
        samples: [
          { labels: { phase: 'map', outcome: 'committed' }, value: 24 },
          { labels: { phase: 'map', outcome: 'failed' }, value: 2 },
        ],
      },
      { name: 'tsmr_slots_busy', help: 'Slots running an attempt.', type: 'gauge', samples: [{ value: 7 }] },
      { name: 'tsmr_workers', help: 'Workers alive.', type: 'gauge', samples: [] },
    ]);
    assert.equal(
      text,
      [
        '# HELP tsmr_attempts_total Task attempts started.',
        '# TYPE tsmr_attempts_total counter',
        'tsmr_attempts_total{phase="map",outcome="committed"} 24',
        'tsmr_attempts_total{phase="map",outcome="failed"} 2',
        '# HELP tsmr_slots_busy Slots running an attempt.',
        '# TYPE tsmr_slots_busy gauge',
        'tsmr_slots_busy 7',
        '# HELP tsmr_workers Workers alive.',
        '# TYPE tsmr_workers gauge',
        '',
      ].join('\n'),
    );
    assert.equal(renderPrometheus([]), '');
  });

  it('escapes label values and help text as the exposition format says', () => {
    // Label values: \ → \\, " → \", line feed → \n; nothing else (tabs, UTF-8 stay).
    assert.equal(escapeLabelValue('C:\\tmp\\"x"\nnext\tend é'), 'C:\\\\tmp\\\\\\"x\\"\\nnext\tend é');
    // Help: only \ and line feed; quotes stay.
    assert.equal(escapeHelp('a "b" \\ c\nd'), 'a "b" \\\\ c\\nd');
    const text = renderPrometheus([
      {
        name: 'tsmr_job_counters_total',
        help: 'Job counters (group/name).\nSummed over committed attempts.',
        type: 'counter',
        samples: [{ labels: { group: 'my "jobs"', name: 'path\\to\nfile' }, value: 3 }],
      },
    ]);
    assert.match(
      text,
      /^# HELP tsmr_job_counters_total Job counters \(group\/name\)\.\\nSummed over committed attempts\.$/m,
    );
    assert.match(text, /^tsmr_job_counters_total\{group="my \\"jobs\\"",name="path\\\\to\\nfile"\} 3$/m);
    assert.equal(text.split('\n').length, 4, 'no raw line feed escapes a line');
  });

  it('writes special float values the way Prometheus parses them', () => {
    assert.equal(formatSampleValue(NaN), 'NaN');
    assert.equal(formatSampleValue(Infinity), '+Inf');
    assert.equal(formatSampleValue(-Infinity), '-Inf');
    assert.equal(formatSampleValue(1.5), '1.5');
    assert.equal(formatSampleValue(-0.25), '-0.25');
    assert.equal(formatSampleValue(2 ** 53), '9007199254740992');
    assert.equal(formatSampleValue(1e21), '1e+21');
    const text = renderPrometheus([{ name: 'g', help: '', type: 'gauge', samples: [{ value: -Infinity }] }]);
    assert.equal(text, '# HELP g \n# TYPE g gauge\ng -Inf\n');
  });

  it('rejects what Prometheus would reject, with TSMR_INTERNAL', () => {
    const bad = [
      [{ name: '0abc', help: '', type: 'gauge', samples: [] }],
      [{ name: 'a-b', help: '', type: 'gauge', samples: [] }],
      [
        { name: 'dup', help: '', type: 'gauge', samples: [] },
        { name: 'dup', help: '', type: 'counter', samples: [] },
      ],
      [{ name: 'x', help: '', type: 'gauge', samples: [{ labels: { 'bad-label': 'v' }, value: 1 }] }],
      [{ name: 'x', help: '', type: 'gauge', samples: [{ labels: { __name__: 'v' }, value: 1 }] }],
      [
        {
          name: 'x',
          help: '',
          type: 'gauge',
          samples: [
            { labels: { a: '1', b: '2' }, value: 1 },
            { labels: { b: '2', a: '1' }, value: 2 },
          ],
        },
      ],
      [{ name: 'c_total', help: '', type: 'counter', samples: [{ value: -1 }] }],
      [{ name: 'c_total', help: '', type: 'counter', samples: [{ value: NaN }] }],
    ] as const;
    for (const metrics of bad) {
      assert.throws(
        () => renderPrometheus(metrics as unknown as Parameters<typeof renderPrometheus>[0]),
        (e: unknown) => isTsmrError(e) && e.code === 'TSMR_INTERNAL',
        JSON.stringify(metrics),
      );
    }
    // Colons are allowed in metric names (recording rules), not in label names.
    assert.doesNotThrow(() =>
      renderPrometheus([{ name: 'job:tsmr_bytes:rate5m', help: '', type: 'gauge', samples: [] }]),
    );
  });
});
