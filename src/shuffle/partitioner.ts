/**
 * The default partitioner: xxHash64 (seed 0) of the encoded key, mod R.
 *
 * Hashing the *encoded* key makes the partition of a key the same on every
 * machine and Node version (Hadoop's HashPartitioner uses Java's
 * `hashCode`, which is stable for the same reason).
 */
import xxhash from 'xxhash-wasm';

const { h64Raw } = await xxhash();
const moduli = new Map<number, bigint>();

/** Partition of an encoded key in `[0, numPartitions)`. */
export function hashPartition(encodedKey: Uint8Array, numPartitions: number): number {
  if (numPartitions === 1) return 0;
  let m = moduli.get(numPartitions);
  if (m === undefined) moduli.set(numPartitions, (m = BigInt(numPartitions)));
  return Number(h64Raw(encodedKey, 0n) % m);
}
