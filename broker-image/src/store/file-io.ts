// Thin promise wrappers over the callback fs API (lighter than fs/promises FileHandle on the hot
// path), and a reference-counted descriptor so a file can be deleted while reads are in flight
// without an fd number being reused under them.

import fs from 'node:fs';

export function openFile(path: string, flags: number | string): Promise<number> {
  return new Promise((resolve, reject) =>
    fs.open(path, flags, 0o644, (err, fd) => (err ? reject(err) : resolve(fd))),
  );
}

export function closeFile(fd: number): Promise<void> {
  return new Promise((resolve, reject) => fs.close(fd, (err) => (err ? reject(err) : resolve())));
}

export function fdatasyncFile(fd: number): Promise<void> {
  return new Promise((resolve, reject) => fs.fdatasync(fd, (err) => (err ? reject(err) : resolve())));
}

export function ftruncateFile(fd: number, length: number): Promise<void> {
  return new Promise((resolve, reject) => fs.ftruncate(fd, length, (err) => (err ? reject(err) : resolve())));
}

export function fstatSize(fd: number): Promise<number> {
  return new Promise((resolve, reject) => fs.fstat(fd, (err, st) => (err ? reject(err) : resolve(st.size))));
}

function readOnce(fd: number, buf: Buffer, off: number, len: number, pos: number): Promise<number> {
  return new Promise((resolve, reject) =>
    fs.read(fd, buf, off, len, pos, (err, n) => (err ? reject(err) : resolve(n))),
  );
}

/** Reads up to `len` bytes at `pos`; fewer only at end of file. Returns the count read. */
/** `readAt` done synchronously: for bytes that are almost surely in the page cache. */
export function readAtSync(fd: number, buf: Buffer, off: number, len: number, pos: number): number {
  let done = 0;
  while (done < len) {
    const n = fs.readSync(fd, buf, off + done, len - done, pos + done);
    if (n === 0) break;
    done += n;
  }
  return done;
}

export async function readAt(
  fd: number,
  buf: Buffer,
  off: number,
  len: number,
  pos: number,
): Promise<number> {
  let done = 0;
  while (done < len) {
    const n = await readOnce(fd, buf, off + done, len - done, pos + done);
    if (n === 0) break;
    done += n;
  }
  return done;
}

function writevOnce(fd: number, bufs: Buffer[], pos: number): Promise<number> {
  return new Promise((resolve, reject) =>
    fs.writev(fd, bufs, pos, (err, n) => (err ? reject(err) : resolve(n))),
  );
}

/** What is left of `bufs` once a (possibly short) vectored write took `written` bytes. */
function unwritten(bufs: Buffer[], written: number): Buffer[] {
  let n = written;
  let i = 0;
  while (i < bufs.length && n >= bufs[i].length) {
    n -= bufs[i].length;
    i++;
  }
  const rest = bufs.slice(i);
  if (n > 0) rest[0] = rest[0].subarray(n);
  return rest;
}

/** Writes all buffers contiguously at `pos`, continuing after short writes. */
export async function writevAt(fd: number, bufs: Buffer[], pos: number): Promise<void> {
  let pending = bufs;
  let at = pos;
  while (pending.length > 0) {
    const n = await writevOnce(fd, pending, at);
    at += n;
    pending = unwritten(pending, n);
  }
}

/**
 * `writevAt` done synchronously. Appends land in the page cache, so this is a copy, like a
 * store into RocketMQ's mapped file; a thread-pool round trip per batch costs more than it.
 */
export function writevAtSync(fd: number, bufs: Buffer[], pos: number): void {
  let pending = bufs;
  let at = pos;
  while (pending.length > 0) {
    const n = fs.writevSync(fd, pending, at);
    at += n;
    pending = unwritten(pending, n);
  }
}

export function writeAt(fd: number, buf: Buffer, pos: number): Promise<void> {
  return writevAt(fd, [buf], pos);
}

/** fsync of a directory, so that created, renamed or deleted entries survive a power loss. */
export async function fsyncDir(path: string): Promise<void> {
  const fd = await openFile(path, 'r');
  try {
    await new Promise<void>((resolve, reject) => fs.fsync(fd, (err) => (err ? reject(err) : resolve())));
  } finally {
    await closeFile(fd);
  }
}

/** True when the error is "file or directory not found". */
export function isNotFound(err: unknown): boolean {
  return (err as NodeJS.ErrnoException)?.code === 'ENOENT';
}

/** A descriptor shared by concurrent operations; closing waits until the last user releases it. */
export class SharedFd {
  private refs = 0;
  private closing = false;
  private closed: Promise<void> | undefined;
  private resolveClosed: (() => void) | undefined;

  constructor(readonly fd: number) {}

  /** Takes a reference; false once the descriptor is closing. */
  acquire(): boolean {
    if (this.closing) return false;
    this.refs++;
    return true;
  }

  release(): void {
    this.refs--;
    if (this.refs === 0 && this.closing) this.finishClose();
  }

  get isClosing(): boolean {
    return this.closing;
  }

  /** Runs `op` holding a reference; resolves undefined if the descriptor is already closing. */
  async use<T>(op: (fd: number) => Promise<T>): Promise<T | undefined> {
    if (!this.acquire()) return undefined;
    try {
      return await op(this.fd);
    } finally {
      this.release();
    }
  }

  /** `use` for a synchronous operation. */
  useSync<T>(op: (fd: number) => T): T | undefined {
    if (!this.acquire()) return undefined;
    try {
      return op(this.fd);
    } finally {
      this.release();
    }
  }

  /** Marks the descriptor closing and closes it once unused. */
  close(): Promise<void> {
    if (!this.closed) {
      this.closing = true;
      this.closed = new Promise<void>((resolve) => {
        this.resolveClosed = resolve;
      });
      if (this.refs === 0) this.finishClose();
    }
    return this.closed;
  }

  private finishClose(): void {
    fs.close(this.fd, () => this.resolveClosed?.());
  }
}
