/**
 * Job submission messages of `ClientService` (`client_service.proto`):
 * `UploadBundle` and `SubmitJob`, with checked reading on the coordinator's
 * side. A {@link JobSubmission} is a job's code (a bundle hash or streaming
 * commands) and the options the user gave; the coordinator resolves both as
 * `runJob` does.
 */
import { create } from '@bufbuild/protobuf';
import type { SamplerKind, TotalOrderOptions } from '../../api/total-order.ts';
import type { RunOptions } from '../run-options.ts';
import { SubmitJobRequestSchema } from './gen/tsmr/cluster/v1/client_service_pb.js';
import type * as pb from './gen/tsmr/cluster/v1/client_service_pb.js';
import {
  absPath,
  badMessage,
  big,
  int,
  list,
  num64,
  real,
  required,
  sha256Str,
  str,
  wireLimits,
} from './wire-check.ts';
import {
  bundleBytesFromWire,
  jobRefFromWire,
  jobRefToWire,
  paramsFromWire,
  paramsToWire,
} from './wire-common.ts';
import type { WireJobRef } from './wire-common.ts';
import { uploadedSizesFromWire } from './wire-records.ts';

/**
 * The options of a cluster job: those of {@link RunOptions} that make sense
 * on a cluster, as the user gave them (`tsmr submit` flags, or `runJob` with
 * a coordinator), plus speculation. The coordinator resolves them against the
 * job exactly as `runJob` does locally. Paths are absolute, on the shared
 * file system.
 */
export type ClusterRunOptions = Pick<
  RunOptions,
  | 'output'
  | 'overwrite'
  | 'reducers'
  | 'splitSize'
  | 'sortBuffer'
  | 'mergeFanIn'
  | 'maxAttempts'
  | 'taskTimeout'
  | 'simulateFailures'
  | 'seed'
  | 'skipBadRecords'
  | 'params'
> & {
  /** Input paths or globs; absent when the job names its own `inputs` or the input is uploaded. */
  input?: string[];
  /**
   * In-memory input: the sizes of its spool files, uploaded with
   * `UploadInput` under the submission id (`client-input.ts`).
   */
  uploadedInput?: number[];
  files?: string[];
  totalOrder?: boolean | TotalOrderOptions;
  /** Speculative backup attempts (default in cluster mode: on). */
  speculation?: boolean;
};

export interface JobSubmission {
  /** Chosen by the client; makes `SubmitJob` idempotent. */
  submissionId: string;
  job: WireJobRef;
  options: ClusterRunOptions;
}

/** Most inputs, and most side files, of one job. */
const MAX_INPUTS = 100_000;
const MAX_FILES = 1000;

const samplers = ['random', 'split'] as const satisfies readonly SamplerKind[];

export function submissionToWire(s: JobSubmission): pb.SubmitJobRequest {
  const o = s.options;
  const opt64 = (n: number | undefined, field: string): bigint | undefined =>
    n === undefined ? undefined : big(n, field);
  const order = o.totalOrder;
  return create(SubmitJobRequestSchema, {
    submissionId: s.submissionId,
    job: {
      job: jobRefToWire(s.job),
      inputs: o.input ?? [],
      outputDir: o.output,
      uploadedInput: o.uploadedInput && {
        fileSizes: o.uploadedInput.map((n, i) => big(n, `UploadedInput.file_sizes[${i}]`)),
      },
      overwrite: o.overwrite ?? false,
      files: o.files ?? [],
      totalOrder:
        order === undefined || order === false
          ? undefined
          : order === true
            ? {}
            : {
                samples: opt64(order.samples, 'TotalOrderSettings.samples'),
                sampler: order.sampler,
                maxSplitsSampled: order.maxSplitsSampled,
              },
      settings: {
        reducers: o.reducers,
        splitSize: opt64(o.splitSize, 'RunSettings.split_size'),
        sortBufferBytes: opt64(o.sortBuffer, 'RunSettings.sort_buffer_bytes'),
        mergeFanIn: o.mergeFanIn,
        maxAttempts: o.maxAttempts,
        taskTimeoutMs: opt64(o.taskTimeout, 'RunSettings.task_timeout_ms'),
        simulateFailures: o.simulateFailures,
        seed: opt64(o.seed, 'RunSettings.seed'),
        skipBadRecords: opt64(o.skipBadRecords, 'RunSettings.skip_bad_records'),
        speculation: o.speculation,
        params: paramsToWire(o.params ?? {}),
      },
    },
  });
}

/** @throws TsmrError `TSMR_BAD_MESSAGE` naming the first field that breaks its rule. */
export function submissionFromWire(m: pb.SubmitJobRequest, field = 'SubmitJobRequest'): JobSubmission {
  const f = `${field}.job`;
  const j = required(m.job, f);
  const s = required(j.settings, `${f}.settings`);
  const fs = `${f}.settings`;
  const options: ClusterRunOptions = { overwrite: j.overwrite };
  const inputs = list(j.inputs, `${f}.inputs`, MAX_INPUTS).map((p, i) => absPath(p, `${f}.inputs[${i}]`));
  if (inputs.length > 0) options.input = inputs;
  if (j.uploadedInput !== undefined) {
    if (inputs.length > 0) throw badMessage(`${f}.inputs`, 'must be empty when the input is uploaded');
    options.uploadedInput = uploadedSizesFromWire(
      j.uploadedInput.fileSizes,
      `${f}.uploaded_input.file_sizes`,
    );
  }
  if (j.outputDir !== undefined) options.output = absPath(j.outputDir, `${f}.output_dir`);
  const files = list(j.files, `${f}.files`, MAX_FILES).map((p, i) =>
    str(p, `${f}.files[${i}]`, { max: wireLimits.path }),
  );
  if (files.length > 0) options.files = files;
  if (j.totalOrder !== undefined) {
    const t = j.totalOrder;
    const ft = `${f}.total_order`;
    const order: TotalOrderOptions = {};
    if (t.samples !== undefined) order.samples = num64(t.samples, `${ft}.samples`, 1);
    if (t.sampler !== undefined) {
      const sampler = samplers.find((k) => k === t.sampler);
      if (sampler === undefined) throw badMessage(`${ft}.sampler`, `must be one of ${samplers.join(', ')}`);
      order.sampler = sampler;
    }
    if (t.maxSplitsSampled !== undefined)
      order.maxSplitsSampled = int(t.maxSplitsSampled, `${ft}.max_splits_sampled`, 1, 1_000_000);
    options.totalOrder = Object.keys(order).length === 0 ? true : order;
  }
  if (s.reducers !== undefined) options.reducers = int(s.reducers, `${fs}.reducers`, 0, wireLimits.reducers);
  if (s.splitSize !== undefined) options.splitSize = num64(s.splitSize, `${fs}.split_size`, 1);
  if (s.sortBufferBytes !== undefined)
    options.sortBuffer = num64(s.sortBufferBytes, `${fs}.sort_buffer_bytes`, 1024);
  if (s.mergeFanIn !== undefined) options.mergeFanIn = int(s.mergeFanIn, `${fs}.merge_fan_in`, 2, 1_000_000);
  if (s.maxAttempts !== undefined) options.maxAttempts = int(s.maxAttempts, `${fs}.max_attempts`, 1, 1000);
  if (s.taskTimeoutMs !== undefined) options.taskTimeout = num64(s.taskTimeoutMs, `${fs}.task_timeout_ms`);
  if (s.simulateFailures !== undefined)
    options.simulateFailures = real(s.simulateFailures, `${fs}.simulate_failures`, 0, 1);
  if (s.seed !== undefined) options.seed = num64(s.seed, `${fs}.seed`);
  if (s.skipBadRecords !== undefined)
    options.skipBadRecords = num64(s.skipBadRecords, `${fs}.skip_bad_records`);
  if (s.speculation !== undefined) options.speculation = s.speculation;
  const params = paramsFromWire(s.params, `${fs}.params`);
  if (Object.keys(params).length > 0) options.params = params;
  return {
    submissionId: str(m.submissionId, `${field}.submission_id`, { max: wireLimits.name }),
    job: jobRefFromWire(j.job, `${f}.job`),
    options,
  };
}

/** An uploaded bundle, checked: its bytes hash to its name. */
export function uploadFromWire(
  m: pb.UploadBundleRequest,
  field = 'UploadBundleRequest',
): { sha256: string; bundle: Uint8Array } {
  const sha256 = sha256Str(m.sha256, `${field}.sha256`);
  return { sha256, bundle: bundleBytesFromWire(m.bundle, sha256, `${field}.bundle`) };
}
