import { chmod, chown, readFile } from 'node:fs/promises';

/** The group whose members may use the control socket beside root. */
export const CONTROL_GROUP = 'skyminer';

/** The numeric id of a group from an /etc/group text, or null when it is not listed. */
export function groupId(etcGroup: string, name: string): number | null {
  for (const line of etcGroup.split('\n')) {
    const [group, , gid] = line.split(':');
    if (group === name && gid !== undefined && /^\d+$/.test(gid)) return Number(gid);
  }
  return null;
}

/**
 * Gives the socket mode 0660 and, where the group exists, the owner root and that group, so only root and the
 * group's members can connect. Returns what was done, for the log; a group that cannot be set is reported, not fatal.
 */
export async function restrictSocket(
  path: string,
  options: { group?: string | null; mode?: number; etcGroup?: string } = {},
): Promise<string> {
  const mode = options.mode ?? 0o660;
  await chmod(path, mode);
  const group = options.group === undefined ? CONTROL_GROUP : options.group;
  if (group === null) return `mode ${mode.toString(8)}`;
  let text: string;
  try {
    text = await readFile(options.etcGroup ?? '/etc/group', 'utf8');
  } catch {
    return `mode ${mode.toString(8)}, no group file`;
  }
  const gid = groupId(text, group);
  if (gid === null) return `mode ${mode.toString(8)}, no group ${group} on this system`;
  const uid = process.getuid?.() === 0 ? 0 : (process.getuid?.() ?? -1);
  try {
    await chown(path, uid, gid);
    return `mode ${mode.toString(8)}, group ${group}`;
  } catch (err) {
    return `mode ${mode.toString(8)}, cannot set group ${group} (${(err as NodeJS.ErrnoException).code ?? String(err)})`;
  }
}
