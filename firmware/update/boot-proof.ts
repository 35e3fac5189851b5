// What the services of this boot have proved, kept where the trial boot's watch (`skyminer update watch`, its own
// process) reads it: the agent records that the manager acknowledged it (and which of its checks fail meanwhile),
// the supervisor that it is up and whether the panel has drawn. Each proof is a small JSON file under /run/skyminer, replaced atomically, naming the kernel's
// boot id and the process that wrote it. The boot id, not a time: a board without a clock battery starts in 1970
// and jumps when NTP answers, so no timestamp tells this boot from the last; the boot id is drawn afresh by the
// kernel at every boot. /run is a tmpfs that a reboot empties anyway; the id also refuses a proof that survived
// some other way. The writer's pid: a service that proved itself and then died proves nothing any more.
import { readFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { writeFileAtomic } from '../lib/files.js';
import { trialHealth, type ManagerProof, type TrialFacts } from './trial-health.js';
import type { Health } from './watch.js';

export const RUN_DIR = '/run/skyminer';
export const STATE_DIR = '/var/lib/skyminer';
export const BOOT_ID_FILE = '/proc/sys/kernel/random/boot_id';
/** Written by the agent when the manager acknowledged a heartbeat of this boot. */
export const ACK_PROOF = 'trial-acknowledged.json';
/** Written by the supervisor once it is up, and again once the panel has drawn. */
export const MANAGER_PROOF = 'trial-manager.json';
/** Written by the agent of a trial boot whenever the checks failing at its heartbeat change (none: an empty list). */
export const CHECKS_PROOF = 'trial-checks.json';

const bootIdSchema = z.string().regex(/^[0-9a-f-]{16,64}$/);

const proofSchema = z.strictObject({
  boot_id: bootIdSchema,
  pid: z.int().min(1),
  /** Wall clock when written (ms), for a person reading the file; never compared. */
  at: z.int().min(0),
  panel: z.enum(['drawn', 'waiting', 'none']).optional(),
  failing: z.array(z.string().max(40)).max(16).optional(),
});

export type Proof = z.infer<typeof proofSchema>;

export interface ProofPaths {
  runDir?: string;
  stateDir?: string;
  bootIdFile?: string;
}

export class ProofError extends Error {
  override readonly name = 'ProofError';
}

/** This boot's id, as the kernel draws it at boot. */
export async function kernelBootId(file = BOOT_ID_FILE): Promise<string> {
  const text = await readFile(file, 'utf8').catch((err: NodeJS.ErrnoException) => {
    throw new ProofError(`cannot read this boot's id from ${file} (${err.code ?? err.message})`);
  });
  const id = bootIdSchema.safeParse(text.trim());
  if (!id.success) throw new ProofError(`${file}: not a boot id`);
  return id.data;
}

/** Replaces one proof, bound to this boot and this process; the directory is made if missing. */
export async function recordProof(
  name: string,
  fields: { panel?: ManagerProof['panel']; failing?: readonly string[] } = {},
  paths: ProofPaths = {},
): Promise<void> {
  const dir = paths.runDir ?? RUN_DIR;
  const proof: Proof = {
    boot_id: await kernelBootId(paths.bootIdFile),
    pid: process.pid,
    at: Date.now(),
    ...(fields.panel ? { panel: fields.panel } : {}),
    ...(fields.failing ? { failing: [...fields.failing] } : {}),
  };
  await mkdir(dir, { recursive: true });
  await writeFileAtomic(join(dir, name), JSON.stringify(proof) + '\n');
}

/** True while process `pid` exists (EPERM: it exists, owned by another user). */
export function processAlive(pid: number): boolean {
  try {
    return process.kill(pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * A proof that still holds: written in boot `bootId` by a process alive now. Missing, damaged, from another boot or
 * from a process gone: none (the watch keeps waiting, and names what is missing if it gives up).
 */
export async function readProof(
  file: string,
  bootId: string,
  alive: (pid: number) => boolean = processAlive,
): Promise<Proof | undefined> {
  const text = await readFile(file, 'utf8').catch(() => undefined);
  if (text === undefined) return undefined;
  let parsed: ReturnType<typeof proofSchema.safeParse>;
  try {
    parsed = proofSchema.safeParse(JSON.parse(text));
  } catch {
    return undefined;
  }
  if (!parsed.success || parsed.data.boot_id !== bootId || !alive(parsed.data.pid)) return undefined;
  return parsed.data;
}

/** The facts of this boot as the services recorded them, for trial-health.ts to judge. */
export async function deviceTrialFacts(
  paths: ProofPaths = {},
  alive: (pid: number) => boolean = processAlive,
): Promise<TrialFacts> {
  const runDir = paths.runDir ?? RUN_DIR;
  const bootId = await kernelBootId(paths.bootIdFile);
  const text = (await readFile(join(paths.stateDir ?? STATE_DIR, 'role'), 'utf8').catch(() => '')).trim();
  const role = text === 'manager' || text === 'board' ? text : undefined;
  const acknowledged = (await readProof(join(runDir, ACK_PROOF), bootId, alive)) !== undefined;
  const failing = (await readProof(join(runDir, CHECKS_PROOF), bootId, alive))?.failing;
  const agent: TrialFacts = { role, acknowledged, ...(failing?.length ? { failing } : {}) };
  if (role !== 'manager') return agent;
  const manager = await readProof(join(runDir, MANAGER_PROOF), bootId, alive);
  return { ...agent, manager: { supervisor: manager !== undefined, panel: manager?.panel ?? 'waiting' } };
}

/** The device's trial health; a boot id that cannot be read is a reason not to commit, named as such. */
export async function deviceTrialHealth(paths: ProofPaths = {}): Promise<Health> {
  try {
    return trialHealth(await deviceTrialFacts(paths));
  } catch (err) {
    if (err instanceof ProofError) return { ok: false, detail: err.message };
    throw err;
  }
}
