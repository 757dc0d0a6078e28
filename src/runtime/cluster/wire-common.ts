/**
 * Conversions of the shared messages of `proto/tsmr/cluster/v1/common.proto`
 * to and from tsmr's own types: errors, job parameters, job references,
 * input/output formats, splits, segments and bad records. Each `…FromWire`
 * validates what it reads (`wire-check.ts`) and throws `TSMR_BAD_MESSAGE`
 * naming the field; each `…ToWire` builds the message (`create`), throwing
 * `TSMR_INTERNAL` for a number no 64-bit field can carry.
 */
import { create } from '@bufbuild/protobuf';
import type { MessageInitShape } from '@bufbuild/protobuf';
import { NullValue } from '@bufbuild/protobuf/wkt';
import type { ErrorDetails, SerializedError } from '../../errors.ts';
import type { NormalizedInputFormat } from '../../io/record-reader.ts';
import type { NormalizedOutputFormat } from '../../io/output-writer.ts';
import type { Split } from '../../io/splits.ts';
import type { SegmentInfo } from '../../shuffle/run-writer.ts';
import type { BadRecord, JobRef } from '../../task/messages.ts';
import { bundleDigest } from './bundle-digest.ts';
import {
  BadRecordSchema,
  ParamValueSchema,
  SegmentInfoSchema,
  SerializedErrorSchema,
  TextEncoding,
} from './gen/tsmr/cluster/v1/common_pb.js';
import type * as pb from './gen/tsmr/cluster/v1/common_pb.js';
import { BUNDLE_MAX_BYTES } from './rpc-limits.ts';
import {
  absPath,
  badMessage,
  big,
  enumCodec,
  int,
  list,
  noCase,
  num64,
  optBig,
  optNum64,
  optStr,
  real,
  required,
  sha256Str,
  str,
  wireLimits,
} from './wire-check.ts';

/** Job parameters (`ctx.params`). */
export type Params = Record<string, string | number | boolean | null>;

/** A {@link JobRef} kind with a module URL gets the SHA-256 of the module's bundle in its place. */
type Bundled<R> = R extends { moduleUrl: string } ? Omit<R, 'moduleUrl'> & { bundleSha256: string } : R;

/**
 * How a task finds the job's code on the wire: a {@link JobRef} with a bundle
 * hash where it has a module URL. A worker puts the URL of its cached copy of
 * the bundle in its place.
 */
export type WireJobRef = Bundled<JobRef>;

// --- errors -----------------------------------------------------------------

export function errorToWire(e: SerializedError): pb.SerializedError {
  return create(SerializedErrorSchema, errorInit(e));
}

function errorInit(e: SerializedError): MessageInitShape<typeof SerializedErrorSchema> {
  return {
    name: e.name,
    code: e.code,
    message: e.message,
    stack: e.stack,
    detailsJson: e.details === undefined ? undefined : JSON.stringify(e.details),
    cause: e.cause === undefined ? undefined : errorInit(e.cause),
    retriable: e.retriable,
  };
}

export function errorFromWire(m: pb.SerializedError, field: string, depth = 0): SerializedError {
  const out: SerializedError = {
    name: str(m.name, `${field}.name`, { max: wireLimits.name * 2 }),
    message: str(m.message, `${field}.message`, { max: wireLimits.text, empty: true }),
  };
  const code = optStr(m.code, `${field}.code`, { max: wireLimits.name });
  if (code !== undefined) out.code = code;
  const stack = optStr(m.stack, `${field}.stack`, { max: wireLimits.text, empty: true });
  if (stack !== undefined) out.stack = stack;
  if (m.detailsJson !== undefined) out.details = detailsFromJson(m.detailsJson, `${field}.details_json`);
  if (m.retriable !== undefined) out.retriable = m.retriable;
  if (m.cause !== undefined) {
    if (depth >= wireLimits.causeDepth)
      throw badMessage(`${field}.cause`, `is nested deeper than ${wireLimits.causeDepth}`);
    out.cause = errorFromWire(m.cause, `${field}.cause`, depth + 1);
  }
  return out;
}

function detailsFromJson(text: string, field: string): ErrorDetails {
  str(text, field, { max: wireLimits.text });
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw badMessage(field, 'is not valid JSON');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw badMessage(field, 'must be a JSON object');
  }
  return parsed as ErrorDetails;
}

// --- params -----------------------------------------------------------------

export function paramsToWire(params: Params): Record<string, pb.ParamValue> {
  return Object.fromEntries(
    Object.entries(params).map(([name, v]) => {
      const kind =
        v === null
          ? { case: 'nullValue' as const, value: NullValue.NULL_VALUE }
          : typeof v === 'string'
            ? { case: 'stringValue' as const, value: v }
            : typeof v === 'number'
              ? { case: 'numberValue' as const, value: v }
              : { case: 'boolValue' as const, value: v };
      return [name, create(ParamValueSchema, { kind })];
    }),
  );
}

export function paramsFromWire(m: Record<string, pb.ParamValue>, field: string): Params {
  const names = list(Object.keys(m), field, wireLimits.params);
  // Object.fromEntries defines own properties: a parameter named `__proto__` stays a parameter.
  return Object.fromEntries(
    names.map((name) => {
      const f = `${field}[${JSON.stringify(name.slice(0, 40))}]`;
      str(name, `${field} name`, { max: wireLimits.name });
      const { kind } = m[name];
      if (kind.case === 'stringValue')
        return [name, str(kind.value, f, { max: wireLimits.text, empty: true })];
      if (kind.case === 'numberValue')
        return [name, real(kind.value, f, -Number.MAX_VALUE, Number.MAX_VALUE)];
      if (kind.case === 'boolValue') return [name, kind.value];
      if (kind.case === 'nullValue') return [name, null];
      throw noCase(f);
    }),
  );
}

// --- job references ---------------------------------------------------------

export function jobRefToWire(ref: WireJobRef): MessageInitShape<typeof pb.JobRefSchema> {
  switch (ref.kind) {
    case 'module':
      return {
        kind: { case: 'module', value: { bundleSha256: ref.bundleSha256, exportName: ref.exportName } },
      };
    case 'defined':
      return {
        kind: {
          case: 'defined',
          value: { bundleSha256: ref.bundleSha256, index: ref.index, fingerprint: ref.fingerprint },
        },
      };
    case 'streaming':
      return {
        kind: {
          case: 'streaming',
          value: { mapper: ref.mapper, combiner: ref.combiner, reducer: ref.reducer },
        },
      };
  }
}

export function jobRefFromWire(m: pb.JobRef | undefined, field: string): WireJobRef {
  const { kind } = required(m, field);
  if (kind.case === 'module') {
    const f = `${field}.module`;
    return {
      kind: 'module',
      bundleSha256: sha256Str(kind.value.bundleSha256, `${f}.bundle_sha256`),
      exportName: str(kind.value.exportName, `${f}.export_name`, { max: wireLimits.name }),
    };
  }
  if (kind.case === 'defined') {
    const f = `${field}.defined`;
    return {
      kind: 'defined',
      bundleSha256: sha256Str(kind.value.bundleSha256, `${f}.bundle_sha256`),
      index: kind.value.index,
      fingerprint: sha256Str(kind.value.fingerprint, `${f}.fingerprint`),
    };
  }
  if (kind.case === 'streaming') {
    const f = `${field}.streaming`;
    const ref: WireJobRef = {
      kind: 'streaming',
      mapper: str(kind.value.mapper, `${f}.mapper`, { max: wireLimits.text }),
    };
    const combiner = optStr(kind.value.combiner, `${f}.combiner`, { max: wireLimits.text });
    const reducer = optStr(kind.value.reducer, `${f}.reducer`, { max: wireLimits.text });
    if (combiner !== undefined) ref.combiner = combiner;
    if (reducer !== undefined) ref.reducer = reducer;
    return ref;
  }
  throw noCase(field);
}

// --- formats ----------------------------------------------------------------

/** Input encodings; output text has `utf8` and `latin1` only (checked by {@link outputEncodings}). */
const inputEncodings = enumCodec({
  utf8: TextEncoding.UTF8,
  latin1: TextEncoding.LATIN1,
  buffer: TextEncoding.BUFFER,
});
const outputEncodings = enumCodec({ utf8: TextEncoding.UTF8, latin1: TextEncoding.LATIN1 });

export function inputFormatToWire(f: NormalizedInputFormat): MessageInitShape<typeof pb.InputFormatSchema> {
  if (f.type === 'text')
    return { format: { case: 'text', value: { encoding: inputEncodings.toWire(f.encoding) } } };
  if (f.type === 'fixed') return { format: { case: 'fixed', value: { recordLength: f.recordLength } } };
  return { format: { case: f.type, value: {} } };
}

export function inputFormatFromWire(m: pb.InputFormat | undefined, field: string): NormalizedInputFormat {
  const { format } = required(m, field);
  if (format.case === 'text') {
    return {
      type: 'text',
      encoding: inputEncodings.fromWire(format.value.encoding, `${field}.text.encoding`),
    };
  }
  if (format.case === 'jsonl' || format.case === 'records') return { type: format.case };
  if (format.case === 'fixed') {
    return {
      type: 'fixed',
      recordLength: int(format.value.recordLength, `${field}.fixed.record_length`, 1, 2 ** 31),
    };
  }
  throw noCase(field);
}

export function outputFormatToWire(
  f: NormalizedOutputFormat,
): MessageInitShape<typeof pb.OutputFormatSchema> {
  if (f.type === 'text')
    return { format: { case: 'text', value: { encoding: outputEncodings.toWire(f.encoding) } } };
  return { format: { case: f.type, value: {} } };
}

export function outputFormatFromWire(m: pb.OutputFormat | undefined, field: string): NormalizedOutputFormat {
  const { format } = required(m, field);
  if (format.case === 'text') {
    return {
      type: 'text',
      encoding: outputEncodings.fromWire(format.value.encoding, `${field}.text.encoding`),
    };
  }
  if (format.case === 'jsonl' || format.case === 'raw') return { type: format.case };
  throw noCase(field);
}

// --- splits and segments ----------------------------------------------------

export function splitToWire(s: Split): MessageInitShape<typeof pb.SplitSchema> {
  return {
    index: s.index,
    input: s.input,
    length: big(s.length, 'Split.length'),
    parts: s.parts.map((p) => ({
      path: p.path,
      start: big(p.start, 'SplitPart.start'),
      end: big(p.end, 'SplitPart.end'),
      compressed: p.compressed,
      size: big(p.size, 'SplitPart.size'),
      mtimeMs: p.mtimeMs,
    })),
  };
}

export function splitFromWire(m: pb.Split | undefined, field: string): Split {
  const s = required(m, field);
  const parts = list(s.parts, `${field}.parts`, wireLimits.splitParts).map((p, i) => {
    const f = `${field}.parts[${i}]`;
    const start = num64(p.start, `${f}.start`);
    const end = num64(p.end, `${f}.end`, start);
    const size = num64(p.size, `${f}.size`);
    if (end > size) throw badMessage(`${f}.end`, `is ${end}, past the file's size ${size}`);
    return {
      path: absPath(p.path, `${f}.path`),
      start,
      end,
      compressed: p.compressed,
      size,
      mtimeMs: real(p.mtimeMs, `${f}.mtime_ms`, -Number.MAX_VALUE, Number.MAX_VALUE),
    };
  });
  const length = num64(s.length, `${field}.length`);
  const sum = parts.reduce((n, p) => n + (p.end - p.start), 0);
  if (sum !== length) throw badMessage(`${field}.length`, `is ${length}, but its parts add up to ${sum}`);
  const split: Split = { index: s.index, parts, length };
  if (s.input !== undefined) split.input = int(s.input, `${field}.input`, 0, 999);
  return split;
}

export function segmentToWire(s: SegmentInfo, field: string): pb.SegmentInfo {
  return create(SegmentInfoSchema, {
    offset: big(s.offset, `${field}.offset`),
    length: big(s.length, `${field}.length`),
    records: big(s.records, `${field}.records`),
    crc32: s.crc32,
  });
}

export function segmentFromWire(m: pb.SegmentInfo | undefined, field: string): SegmentInfo {
  const s = required(m, field);
  return {
    offset: num64(s.offset, `${field}.offset`),
    length: num64(s.length, `${field}.length`),
    records: num64(s.records, `${field}.records`),
    crc32: int(s.crc32, `${field}.crc32`, 0, 0xffffffff),
  };
}

export function badRecordToWire(r: BadRecord): pb.BadRecord {
  return create(BadRecordSchema, {
    file: r.file,
    offset: big(r.offset, 'BadRecord.offset'),
    index: optBig(r.index, 'BadRecord.index'),
    errorCode: r.error.code,
    errorMessage: r.error.message,
  });
}

export function badRecordFromWire(m: pb.BadRecord | undefined, field: string): BadRecord {
  const r = required(m, field);
  const record: BadRecord = {
    file: absPath(r.file, `${field}.file`),
    offset: num64(r.offset, `${field}.offset`),
    error: {
      code: str(r.errorCode, `${field}.error_code`, { max: wireLimits.name }),
      message: str(r.errorMessage, `${field}.error_message`, { max: wireLimits.short, empty: true }),
    },
  };
  const index = optNum64(r.index, `${field}.index`);
  if (index !== undefined) record.index = index;
  return record;
}

/**
 * Job bundle bytes, 1 byte to {@link BUNDLE_MAX_BYTES}, that must hash to `sha256`
 * (bundles are addressed by their SHA-256, DESIGN.md §6).
 */
export function bundleBytesFromWire(bytes: Uint8Array, sha256: string, field: string): Uint8Array {
  if (bytes.length === 0) throw badMessage(field, 'is required');
  if (bytes.length > BUNDLE_MAX_BYTES)
    throw badMessage(field, `has ${bytes.length} bytes, more than ${BUNDLE_MAX_BYTES}`);
  const actual = bundleDigest(bytes);
  if (actual !== sha256) throw badMessage(field, `hashes to ${actual}, not ${sha256}`);
  return bytes;
}
