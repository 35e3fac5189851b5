import { createRequire } from 'node:module';

/** What the native addon (`drivers/native/ioctl.c`) exports: the ioctls Node cannot make by itself. */
export interface NativeIoctl {
  gpioChipInfo(path: string): { name: string; label: string; lines: number };
  gpioLineInfo(
    path: string,
    offset: number,
  ): { name: string; consumer: string; used: boolean; output: boolean; activeLow: boolean };
  /** Requests one line without changing its direction or level; returns the line's file descriptor. */
  gpioRequestAsIs(path: string, offset: number, consumer: string): number;
  gpioGetValue(lineFd: number): 0 | 1;
  /** Makes the line an output driving `value`, in one step. */
  gpioSetOutput(lineFd: number, value: 0 | 1): void;
  gpioSetValue(lineFd: number, value: 0 | 1): void;
  /** An ioctl whose argument is a pointer to one int; returns the int after the call. */
  ioctlInt(fd: number, request: number, value: number): number;
  /** The credentials the kernel recorded for the peer of a connected unix socket. */
  peerCredentials(fd: number): { pid: number; uid: number; gid: number };
  /** Bytes of a CFI flash in read-array mode at a physical address (through /dev/mem), a word at a time. */
  physRead(address: number, length: number): Buffer;
  /** Erases a CFI flash's blocks at a physical address and programs `data` (whole blocks) there, read back. */
  cfiWrite(address: number, blockBytes: number, data: Buffer): void;
}

/** Where node-gyp leaves the addon, from this file's place in both the source tree and dist/. */
const candidates = [
  '../../../drivers/native/build/Release/skyminer_native.node',
  './build/Release/skyminer_native.node',
];

let loaded: NativeIoctl | null = null;

/** Loads the addon once; a missing build is one clear error, not a stack trace from deep inside Node. */
export function loadNativeIoctl(): NativeIoctl {
  if (loaded) return loaded;
  const require = createRequire(import.meta.url);
  const errors: string[] = [];
  for (const path of candidates) {
    try {
      loaded = require(path) as NativeIoctl;
      return loaded;
    } catch (err) {
      errors.push((err as Error).message.split('\n')[0]!);
    }
  }
  throw new Error(`native ioctl addon not loadable (run make deps to build it): ${errors.join('; ')}`);
}
