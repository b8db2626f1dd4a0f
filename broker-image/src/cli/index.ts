// The client-side command line (`bolide produce|consume|topic|group|cluster`); main.ts hands every
// non-server subcommand to runCli.

export { type CliIo, processIo, UsageError } from './io.js';
export { CLI_USAGE, runCli } from './run-cli.js';
