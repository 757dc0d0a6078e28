/**
 * Helpers for the tests of the wire conversions (`wire-*.ts`): fast-check
 * arbitraries of the values messages share, a round-trip property through
 * protobuf bytes, and the check that a conversion refused a message.
 */
import assert from 'node:assert/strict';
import { fromBinary, toBinary } from '@bufbuild/protobuf';
import type { DescMessage, MessageShape } from '@bufbuild/protobuf';
import fc from 'fast-check';
import { ErrorCode, isTsmrError } from '../../errors.ts';
import type { SerializedError } from '../../errors.ts';
import type { WireJobRef } from './wire-common.ts';

/** The keys of `T` that are optional (`k?: …`). */
type OptionalKeys<T> = { [K in keyof T]-?: object extends Pick<T, K> ? K : never }[keyof T];

/**
 * An arbitrary of a whole `T`, for round trips that must cover every field of
 * an engine type. `arbs` needs an arbitrary for every key of `T`, optional
 * ones included, and `optional` names every optional key: `true` when it is
 * left out in some values, `false` when the wire always gives it back. So a
 * field added to `T` later fails the typecheck here until it gets an
 * arbitrary, and then the round trip until the wire carries it.
 */
export function full<T extends object>(
  arbs: { [K in keyof T]-?: fc.Arbitrary<Exclude<T[K], undefined>> },
  optional: { [K in OptionalKeys<T>]: boolean },
): fc.Arbitrary<T> {
  const sometimesAbsent = new Set(Object.keys(optional).filter((k) => optional[k as OptionalKeys<T>]));
  const requiredKeys = Object.keys(arbs).filter((k) => !sometimesAbsent.has(k));
  return fc.record(arbs as Record<string, fc.Arbitrary<unknown>>, { requiredKeys }) as fc.Arbitrary<T>;
}

/** A name (worker id, export name) of up to 31 characters. */
export const name = fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9._-]{0,30}$/);
/** A job id as `runJob` makes them. */
export const jobId = fc.stringMatching(/^job-\d{8}-\d{6}-[0-9a-f]{6}$/);
/** A SHA-256, 64 lowercase hex digits. */
export const sha256 = fc.stringMatching(/^[0-9a-f]{64}$/);
/** Any text of up to 40 graphemes. */
export const text = fc.string({ unit: 'grapheme', maxLength: 40 });
export const absPath = fc.array(name, { minLength: 1, maxLength: 4 }).map((p) => `/${p.join('/')}`);
/** A canonical attempt id of a map or reduce task. */
export const attemptId = fc
  .record({ kind: fc.constantFrom('m', 'r'), index: fc.nat({ max: 200_000 }), attempt: fc.nat({ max: 9 }) })
  .map(({ kind, index, attempt }) => `${kind}-${String(index).padStart(5, '0')}_${attempt}`);

/** Job parameters: strings, finite numbers, booleans, null. */
export const params = fc.dictionary(
  fc.string({ minLength: 1, maxLength: 12 }),
  fc.oneof(text, fc.double({ noNaN: true, noDefaultInfinity: true }), fc.boolean(), fc.constant(null)),
  { maxKeys: 5 },
);

const command = text.filter((s) => s.length > 0);

/** Every kind of {@link WireJobRef}. */
export const jobRef: fc.Arbitrary<WireJobRef> = fc.oneof(
  fc.record({ kind: fc.constant('module' as const), bundleSha256: sha256, exportName: name }),
  fc.record({
    kind: fc.constant('defined' as const),
    bundleSha256: sha256,
    index: fc.nat({ max: 0xffffffff }),
    fingerprint: sha256,
  }),
  fc.record(
    { kind: fc.constant('streaming' as const), mapper: command, combiner: command, reducer: command },
    { requiredKeys: ['kind', 'mapper'] },
  ),
);

const errorNode = fc.record(
  {
    name,
    code: fc.stringMatching(/^TSMR_[A-Z_]{1,20}$/),
    message: text,
    stack: text,
    details: fc.dictionary(fc.string({ maxLength: 10 }), fc.oneof(text, fc.integer(), fc.boolean()), {
      maxKeys: 3,
    }),
    retriable: fc.boolean(),
  },
  { requiredKeys: ['name', 'message'] },
);

/** A cause chain of 1–9 errors (the first and up to 8 causes, the depth `serializeError` keeps). */
export const serializedError: fc.Arbitrary<SerializedError> = fc
  .array(errorNode, { minLength: 1, maxLength: 9 })
  .map((nodes) =>
    nodes.reduceRight<SerializedError | undefined>(
      (cause, n) => (cause ? { ...n, cause } : { ...n }),
      undefined,
    )!,
  );

/**
 * Asserts that every value of `arbitrary` comes back deep-equal from
 * `fromWire(fromBinary(toBinary(toWire(value))))`.
 */
export function assertRoundTrips<T, Desc extends DescMessage>(
  arbitrary: fc.Arbitrary<T>,
  schema: Desc,
  toWire: (value: T) => MessageShape<Desc>,
  fromWire: (message: MessageShape<Desc>) => T,
  numRuns = 200,
): void {
  fc.assert(
    fc.property(arbitrary, (value) => {
      const back = fromWire(fromBinary(schema, toBinary(schema, toWire(value))));
      // fast-check may build objects without a prototype; the wire gives plain ones.
      assert.deepStrictEqual(back, structuredClone(value));
    }),
    { numRuns },
  );
}

/** Asserts that `fn` throws `TSMR_BAD_MESSAGE` naming `field`, with a message matching `problem` when given. */
export function refuses(fn: () => unknown, field: string, problem?: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(
      isTsmrError(e) && e.code === ErrorCode.BAD_MESSAGE,
      `expected TSMR_BAD_MESSAGE, got ${String(e)}`,
    );
    assert.equal(e.details.field, field);
    if (problem) assert.match(e.message, problem);
    return true;
  });
}
