/**
 * One thread that performs the recordings' positional writes for the whole process. Writes asked
 * for in one turn of the event loop (every recording flushes on the same tick) go to it as one
 * message and come back as one, instead of one thread-pool job, wake-up and promise per write: the
 * socket reader never waits on the disk, and a disk that stalls holds up only this thread.
 *
 * Buffers backed by a SharedArrayBuffer (see {@link sharedBuffer}) reach the thread without a copy;
 * the caller must not change them until the write's promise settles.
 */
import { Worker } from 'node:worker_threads';

// Plain JavaScript that runs as a script or a module (dynamic imports), from the sources or the build.
const THREAD_SOURCE = `
Promise.all([import('node:worker_threads'), import('node:fs')]).then(([{ parentPort }, { writeSync }]) => {
  parentPort.on('message', (batch) => {
    const results = new Array(batch.length);
    for (let i = 0; i < batch.length; i++) {
      const w = batch[i];
      try {
        results[i] = writeSync(w.fd, w.data, 0, w.data.length, w.position);
      } catch (err) {
        results[i] = { code: err.code, message: err.message };
      }
    }
    parentPort.postMessage(results);
  });
});
`;

interface Pending {
  fd: number;
  data: Uint8Array;
  position: number;
  resolve: (bytesWritten: number) => void;
  reject: (err: Error) => void;
}

type Result = number | { code?: string; message: string };

class WriteThread {
  #worker?: Worker;
  #queued: Pending[] = [];
  /** Batches sent and not answered yet, oldest first (the thread answers in order). */
  #sent: Pending[][] = [];
  #scheduled = false;

  write(fd: number, data: Uint8Array, position: number): Promise<number> {
    return new Promise((resolve, reject) => {
      this.#queued.push({ fd, data, position, resolve, reject });
      if (!this.#scheduled) {
        this.#scheduled = true;
        setImmediate(() => this.#send());
      }
    });
  }

  #send(): void {
    this.#scheduled = false;
    const batch = this.#queued;
    this.#queued = [];
    if (!batch.length) return;
    const worker = this.#thread();
    this.#sent.push(batch);
    worker.ref(); // an answer is due: keep the process alive for it
    // A view on a larger ordinary buffer would be copied whole; give the thread just the bytes.
    worker.postMessage(batch.map((w) => ({ fd: w.fd, data: w.data.buffer instanceof SharedArrayBuffer || w.data.byteLength === w.data.buffer.byteLength ? w.data : w.data.slice(), position: w.position })));
  }

  #thread(): Worker {
    if (this.#worker) return this.#worker;
    // execArgv: none of the parent's loaders or flags (an inherited --input-type would change how the source runs).
    const worker = new Worker(THREAD_SOURCE, { eval: true, name: 'openrtms-disk-writes', execArgv: [] });
    worker.on('message', (results: Result[]) => {
      const batch = this.#sent.shift();
      if (!batch) return;
      for (let i = 0; i < batch.length; i++) {
        const r = results[i];
        if (typeof r === 'number') batch[i].resolve(r);
        else batch[i].reject(Object.assign(new Error(r.message), { code: r.code }));
      }
      if (!this.#sent.length) worker.unref();
    });
    const lost = (why: string) => {
      if (this.#worker !== worker) return;
      this.#worker = undefined; // the next write starts a new thread
      for (const batch of this.#sent.splice(0)) for (const w of batch) w.reject(Object.assign(new Error(`EIO: the disk-write thread ${why}`), { code: 'EIO' }));
    };
    worker.on('error', (err) => lost(`failed: ${err.message}`));
    worker.on('exit', (code) => lost(`exited (code ${code})`));
    worker.unref();
    this.#worker = worker;
    return worker;
  }
}

const shared = new WriteThread();

/**
 * Writes `data` at `position` of the open file `fd` on the process's disk-write thread; resolves
 * with the bytes written (which may be fewer, as with `fs.write`), rejects with the error's code.
 */
export function writeOnThread(fd: number, data: Uint8Array, position: number): Promise<number> {
  return shared.write(fd, data, position);
}

/** A buffer the disk-write thread can read without a copy. */
export function sharedBuffer(size: number): Buffer {
  return Buffer.from(new SharedArrayBuffer(size));
}
