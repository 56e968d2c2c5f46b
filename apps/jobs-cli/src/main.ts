import { runCli } from './cli.js';

// The exit code once stdout and stderr are flushed: a pipe reader gets every line.
process.exitCode = await runCli(process.argv);
