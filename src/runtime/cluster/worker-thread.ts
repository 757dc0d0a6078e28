/**
 * Entry point of a cluster worker's attempt threads: the local one
 * (`src/task/worker.ts`), in a thread that first makes `tsmr` in cached job
 * bundles resolve to this tsmr (`bundle-import.ts`). The bundle cache
 * directory comes as piscina's `workerData`.
 */
import { workerData } from 'piscina';
import { installBundleResolution } from './bundle-import.ts';

installBundleResolution((workerData as { bundleDir: string }).bundleDir);

export { default } from '../../task/worker.ts';
