// A detached process that outlives a test process killed by a signal: once the parent is gone it
// runs the cleanup steps (kill listed pids, run listed shell commands, remove the folder); once the
// folder is gone (a clean stop ran) it exits. Used by the controller-manager and node-agent harnesses.
import { spawn } from 'node:child_process';

const WATCHDOG_SOURCE = `
const fs = require('node:fs');
const { execSync } = require('node:child_process');
const [parent, dir, pidFile, cmdFile] = [Number(process.argv[1]), process.argv[2], process.argv[3], process.argv[4]];
const alive = (pid) => { try { process.kill(pid, 0); return true; } catch { return false; } };
const lines = (f) => { try { return fs.readFileSync(f, 'utf8').split('\\n').filter(Boolean); } catch { return []; } };
setInterval(() => {
  if (!fs.existsSync(dir)) process.exit(0);
  if (alive(parent)) return;
  for (const pid of lines(pidFile).map(Number)) { try { process.kill(-pid, 'SIGKILL'); } catch {} try { process.kill(pid, 'SIGKILL'); } catch {} }
  setTimeout(() => {
    for (const cmd of lines(cmdFile)) { try { execSync(cmd, { stdio: 'ignore' }); } catch {} }
    fs.rmSync(dir, { recursive: true, force: true });
    process.exit(0);
  }, 500);
}, 500);
`;

/**
 * Starts the watchdog for `dir`. Append pids to `pidFile` (each is killed as a process group and as
 * a process) and shell commands to `cmdFile` (run in order, errors ignored) as resources are made.
 */
export function startWatchdog(dir: string, pidFile: string, cmdFile: string): void {
  const watchdog = spawn(
    process.execPath,
    ['-e', WATCHDOG_SOURCE, String(process.pid), dir, pidFile, cmdFile],
    { detached: true, stdio: 'ignore' },
  );
  watchdog.unref();
}
