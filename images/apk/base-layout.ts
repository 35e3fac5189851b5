import type { IndexEntry } from './index-parser.js';
import { packageId } from './index-parser.js';
import type { ScriptType } from './package-reader.js';

/**
 * Package scripts are target-CPU code and are never run on the build host. The few the base system needs are
 * replaced by what Alpine's own root-filesystem builds do instead; the rest are queued for a first-boot step
 * that runs them on the device and records each result.
 */

/** Scripts done at build time instead of being run: busybox's install script and trigger only make the applet
 * links, which the package lists in `etc/busybox-paths.d/busybox`. */
export const BUILD_TIME_SCRIPTS: Readonly<Record<string, readonly ScriptType[]>> = {
  busybox: ['post-install', 'post-upgrade', 'trigger'],
};

export const BUSYBOX_PATHS = 'etc/busybox-paths.d/busybox';

/** The applet links to make: every listed path, as a link to /bin/busybox. */
export function busyboxAppletPaths(list: string): string[] {
  return list
    .split('\n')
    .map((l) => l.trim().replace(/^\/+/, ''))
    .filter((l) => l && !l.startsWith('#') && l !== 'bin/busybox');
}

// Beside the state directory, not in it: the queue belongs to this root slot, and the state directory is the data
// partition's mount point, shared by both slots.
export const FIRST_BOOT_DIR = 'var/lib/skyminer-root/first-boot';
export const FIRST_BOOT_RUNNER = 'usr/libexec/skyminer/first-boot-scripts';
export const FIRST_BOOT_SERVICE = 'etc/init.d/skyminer-first-boot';
export const FIRST_BOOT_RUNLEVEL_LINK = 'etc/runlevels/sysinit/skyminer-first-boot';

export interface PendingScript {
  /** File name under `<FIRST_BOOT_DIR>/scripts/`. */
  file: string;
  /** Arguments: the version for install scripts, the trigger patterns for a trigger. */
  args: string[];
}

/** Which of a package's scripts go to the first-boot queue, in the order apk would have run them. */
export function pendingScripts(
  entry: IndexEntry,
  scripts: ReadonlyMap<ScriptType, Buffer>,
  triggers: readonly string[],
): { install: PendingScript[]; trigger: PendingScript[] } {
  const handled = BUILD_TIME_SCRIPTS[entry.name] ?? [];
  const take = (t: ScriptType): boolean => scripts.has(t) && !handled.includes(t);
  const id = packageId(entry);
  return {
    install: (['pre-install', 'post-install'] as const)
      .filter(take)
      .map((t) => ({ file: `${id}.${t}`, args: [entry.version] })),
    trigger: take('trigger') && triggers.length ? [{ file: `${id}.trigger`, args: [...triggers] }] : [],
  };
}

/** `pending`: one script per line, tab, its arguments separated by spaces. */
export function formatPending(list: readonly PendingScript[]): string {
  return list.map((p) => `${p.file}\t${p.args.join(' ')}\n`).join('');
}

/** The device-side runner (busybox sh). Runs each pending script once, logs the outcome to `done`, then
 * applies owners that only exist once the scripts created them, and retires the queue. */
export const FIRST_BOOT_RUNNER_SCRIPT = `#!/bin/sh
# Runs the package scripts the image builder could not run on its build host, once, in install order,
# and records each outcome in ${'$'}dir/done.
dir=/${FIRST_BOOT_DIR}
[ -s "$dir/pending" ] || exit 0
tab=$(printf '\\t')
while IFS="$tab" read -r script args; do
	[ -n "$script" ] || continue
	case "$script" in
	*.trigger)
		set --
		for pattern in $args; do
			for d in $pattern; do [ -d "$d" ] && set -- "$@" "$d"; done
		done ;;
	*) set -- $args ;;
	esac
	"$dir/scripts/$script" "$@" >>"$dir/log" 2>&1
	echo "$(date -u +%Y-%m-%dT%H:%M:%SZ) $script exit=$?" >>"$dir/done"
done <"$dir/pending"
if [ -s "$dir/owners" ]; then
	while IFS="$tab" read -r owner path; do
		chown -h "$owner" "/$path" && echo "$(date -u +%Y-%m-%dT%H:%M:%SZ) chown $owner /$path" >>"$dir/done"
	done <"$dir/owners"
	mv "$dir/owners" "$dir/owners.applied"
fi
cat "$dir/pending" >>"$dir/pending.ran" && rm "$dir/pending"
`;

export const FIRST_BOOT_SERVICE_SCRIPT = `#!/sbin/openrc-run
description="Run package scripts deferred by the image build"

depend() {
	need localmount
}

start() {
	ebegin "Running deferred package scripts"
	/${FIRST_BOOT_RUNNER}
	eend $?
}
`;
