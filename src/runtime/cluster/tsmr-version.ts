/**
 * Which tsmr versions can work together in one cluster. A worker imports a
 * job bundle against its own tsmr, and the coordinator and workers exchange
 * task messages, so every machine must run the same API and protocol: the same
 * major.minor version (a patch release changes neither). A worker with another
 * major.minor is refused when it registers.
 */
import { readFileSync } from 'node:fs';
import { findPackageJSON } from 'node:module';
import { ErrorCode, TsmrError } from '../../errors.ts';

let version: string | undefined;

/**
 * The version of the running tsmr (`"0.1.0"`), from its `package.json`, read
 * once. The file is found by the package's own name (Node's self-reference),
 * so this works from the sources and from an installed build.
 *
 * @throws TsmrError `TSMR_INTERNAL` when tsmr's `package.json` cannot be found or has no version.
 */
export function tsmrVersion(): string {
  if (version === undefined) {
    const path = findPackageJSON('tsmr', import.meta.url);
    const pkg =
      path === undefined ? undefined : (JSON.parse(readFileSync(path, 'utf8')) as { version?: unknown });
    if (typeof pkg?.version !== 'string') {
      throw new TsmrError(
        ErrorCode.INTERNAL,
        `cannot read tsmr's version from ${path ?? 'its package.json'}`,
      );
    }
    version = pkg.version;
  }
  return version;
}

/**
 * A tsmr version: semver `major.minor.patch`, then an optional prerelease
 * (`-rc.1`) and build (`+build.5`) suffix of `0-9 A-Z a-z . + -`. The RPC
 * conversions refuse any other `tsmr_version` (`wire-worker.ts`).
 */
export const VERSION_PATTERN = /^(\d+)\.(\d+)\.\d+(?:[-+][0-9A-Za-z.+-]*)?$/;

/**
 * True when tsmr versions `a` and `b` (semver strings) have the same major and
 * minor version: `1.4.0` and `1.4.7` are compatible, `1.4.0` and `1.5.0` are
 * not, and for `0.x` versions, where the minor is the breaking part, `0.3.1`
 * and `0.3.9` are compatible and `0.3.1` and `0.4.0` are not. Prerelease and
 * build suffixes are ignored. A string that is not a version is compatible
 * with nothing.
 */
export function compatibleVersions(a: string, b: string): boolean {
  const ma = VERSION_PATTERN.exec(a);
  const mb = VERSION_PATTERN.exec(b);
  return ma !== null && mb !== null && ma[1] === mb[1] && ma[2] === mb[2];
}

/**
 * The reason the coordinator gives a worker it refuses at registration, or
 * undefined when their versions are {@link compatibleVersions}.
 * e.g. `worker runs tsmr 0.2.0, coordinator 0.1.0: install the same major.minor on every machine`.
 */
export function versionRefusal(workerVersion: string, coordinatorVersion: string): string | undefined {
  if (compatibleVersions(workerVersion, coordinatorVersion)) return undefined;
  return (
    `worker runs tsmr ${workerVersion}, coordinator ${coordinatorVersion}: ` +
    'install the same major.minor on every machine'
  );
}
