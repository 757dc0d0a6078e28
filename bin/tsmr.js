#!/usr/bin/env node
// Entry point of the `tsmr` command. The sources are TypeScript run with Node's
// type stripping (Node >= 22.18), so this shim only loads the CLI.
import '../src/cli/main.ts';
