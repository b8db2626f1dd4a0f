// The `lock` file: the pid of the process that has the store open, so a second broker on the same
// directory fails at start instead of corrupting it. A lock left by a dead process is taken over.

import { constants as fsc } from 'node:fs';
import { readFile, unlink } from 'node:fs/promises';
import { closeFile, openFile, writeAt } from './file-io.js';
import { StoreStateError } from './store-errors.js';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
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
    if (Number.isInteger(holder) && alive(holder)) {
      throw new StoreStateError(`store directory is in use by process ${holder} (${path}); stop it first`);
    }
    await unlink(path).catch(() => undefined);
  }
  throw new StoreStateError(`could not take the store lock ${path}`);
}

export async function releaseStoreLock(path: string): Promise<void> {
  await unlink(path).catch(() => undefined);
}
