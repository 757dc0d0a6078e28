/**
 * Job submission messages of `ClientService` (`client_service.proto`):
 * `UploadBundle` and `SubmitJob`, with checked reading on the coordinator's
 * side. A {@link JobSubmission} is what a client resolved from its job module
 * and options: formats normalized, defaults filled in.
 */
import { create } from '@bufbuild/protobuf';
import type { NormalizedInputFormat } from '../../io/record-reader.ts';
import type { NormalizedOutputFormat } from '../../io/output-writer.ts';
import { finiteOrZero } from '../settings.ts';
import type { JobSettings } from '../settings.ts';
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
  inputFormatFromWire,
  inputFormatToWire,
  jobRefFromWire,
  jobRefToWire,
  outputFormatFromWire,
  outputFormatToWire,
  paramsFromWire,
  paramsToWire,
} from './wire-common.ts';
import type { WireJobRef } from './wire-common.ts';

/**
 * Settings of a cluster job: those of `JobSettings` (`src/runtime/settings.ts`)
 * that a job's tasks use, plus speculation. A `taskTimeoutMs` of `Infinity`
 * (no timeout) is 0 on the wire; a finite one must be an integer below 2^32.
 */
export type ClusterJobSettings = Pick<
  JobSettings,
  | 'reducers'
  | 'splitSize'
  | 'sortBufferBytes'
  | 'mergeFanIn'
  | 'maxAttempts'
  | 'taskTimeoutMs'
  | 'simulateFailures'
  | 'seed'
  | 'params'
> & { speculation: boolean };

export interface JobSubmission {
  /** Chosen by the client; makes `SubmitJob` idempotent. */
  submissionId: string;
  name: string;
  job: WireJobRef;
  /** Absolute paths or globs on the shared file system. */
  inputs: string[];
  /** Absent: results kept for the client. */
  outputDir?: string;
  overwrite: boolean;
  inputFormat: NormalizedInputFormat;
  outputFormat: NormalizedOutputFormat;
  settings: ClusterJobSettings;
}

/** Most inputs of one job. */
const MAX_INPUTS = 100_000;

export function submissionToWire(s: JobSubmission): pb.SubmitJobRequest {
  const t = s.settings;
  return create(SubmitJobRequestSchema, {
    submissionId: s.submissionId,
    job: {
      name: s.name,
      job: jobRefToWire(s.job),
      inputs: s.inputs,
      outputDir: s.outputDir,
      overwrite: s.overwrite,
      inputFormat: inputFormatToWire(s.inputFormat),
      outputFormat: outputFormatToWire(s.outputFormat),
      settings: {
        reducers: t.reducers,
        splitSize: big(t.splitSize, 'JobSettings.split_size'),
        sortBufferBytes: big(t.sortBufferBytes, 'JobSettings.sort_buffer_bytes'),
        mergeFanIn: t.mergeFanIn,
        maxAttempts: t.maxAttempts,
        taskTimeoutMs: finiteOrZero(t.taskTimeoutMs),
        simulateFailures: t.simulateFailures,
        seed: big(t.seed, 'JobSettings.seed'),
        speculation: t.speculation,
        params: paramsToWire(t.params),
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
  const out: JobSubmission = {
    submissionId: str(m.submissionId, `${field}.submission_id`, { max: wireLimits.name }),
    name: str(j.name, `${f}.name`, { max: 256 }),
    job: jobRefFromWire(j.job, `${f}.job`),
    inputs: list(j.inputs, `${f}.inputs`, MAX_INPUTS).map((p, i) => absPath(p, `${f}.inputs[${i}]`)),
    overwrite: j.overwrite,
    inputFormat: inputFormatFromWire(j.inputFormat, `${f}.input_format`),
    outputFormat: outputFormatFromWire(j.outputFormat, `${f}.output_format`),
    settings: {
      reducers: int(s.reducers, `${fs}.reducers`, 1, wireLimits.reducers),
      splitSize: num64(s.splitSize, `${fs}.split_size`, 1),
      sortBufferBytes: num64(s.sortBufferBytes, `${fs}.sort_buffer_bytes`, 1024),
      mergeFanIn: int(s.mergeFanIn, `${fs}.merge_fan_in`, 2, 1_000_000),
      maxAttempts: int(s.maxAttempts, `${fs}.max_attempts`, 1, 1000),
      taskTimeoutMs: s.taskTimeoutMs === 0 ? Number.POSITIVE_INFINITY : s.taskTimeoutMs,
      simulateFailures: real(s.simulateFailures, `${fs}.simulate_failures`, 0, 1),
      seed: num64(s.seed, `${fs}.seed`),
      speculation: s.speculation,
      params: paramsFromWire(s.params, `${fs}.params`),
    },
  };
  if (out.inputs.length === 0) throw badMessage(`${f}.inputs`, 'is required (at least one input)');
  if (j.outputDir !== undefined) out.outputDir = absPath(j.outputDir, `${f}.output_dir`);
  return out;
}

/** An uploaded bundle, checked: its bytes hash to its name. */
export function uploadFromWire(
  m: pb.UploadBundleRequest,
  field = 'UploadBundleRequest',
): { sha256: string; bundle: Uint8Array } {
  const sha256 = sha256Str(m.sha256, `${field}.sha256`);
  return { sha256, bundle: bundleBytesFromWire(m.bundle, sha256, `${field}.bundle`) };
}
