// The `lock` file: the pid of the process that has the store open, so a second broker on the same
// directory fails at start instead of corrupting it. A lock left by a dead process is taken over.

import { constants as fsc } from 'node:fs';
import { readFile, unlink } from 'node:fs/promises';
import { closeFile, openFile, writeAt } from './file-io.js';
import { StoreStateError } from './store-errors.js';

async function alive(pid: number): Promise<boolean> {
  try {
    process.kill(pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
  // A killed process that its parent has not reaped yet still answers signal 0 (Linux: state Z).
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
  const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
  return state !== 'Z' && state !== 'X';
}

export async function acquireStoreLock(path: string): Promise<void> {
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = await openFile(path, fsc.O_WRONLY | fsc.O_CREAT | fsc.O_EXCL);
      try {
        await writeAt(fd, Buffer.from(`${process.pid}\n`), 0);
      } finally {
        await closeFile(fd);
      }
      return;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const holder = Number.parseInt(await readFile(path, 'utf8').catch(() => ''), 10);
    if (holder === process.pid) {
      throw new StoreStateError(`store directory is already open in this process (${path})`);
    }
    if (Number.isInteger(holder) && (await alive(holder))) {
      throw new StoreStateError(`store directory is in use by process ${holder} (${path}); stop it first`);
    }
    await unlink(path).catch(() => undefined);
  }
  throw new StoreStateError(`could not take the store lock ${path}`);
}

export async function releaseStoreLock(path: string): Promise<void> {
  await unlink(path).catch(() => undefined);
}
