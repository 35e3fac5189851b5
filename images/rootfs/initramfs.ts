// The initramfs: static busybox, the modules the root needs, and an /init that finds the root partition by the
// MBR signature and partition number on the command line (root=PARTUUID=ssssssss-nn) and switches to it.
import { gzipSync } from 'node:zlib';
import { newcArchive, type CpioEntry } from './cpio.js';

export const INIT_SCRIPT = `#!/bin/busybox sh
/bin/busybox mkdir -p /proc /sys /dev /root /sbin /usr/bin /usr/sbin
/bin/busybox --install -s
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
for m in $(cat /etc/modules-order); do insmod "/lib/modules/$m" 2>/dev/null; done
root=$(sed -n 's/.*root=PARTUUID=\\([0-9a-f]*\\)-\\([0-9a-f]*\\).*/\\1 \\2/p' /proc/cmdline)
set -- $root
sig=$1
part=$(( 0x\${2:-2} ))
dev=""
tries=0
while [ -z "$dev" ] && [ $tries -lt 100 ]; do
  for d in /sys/block/*; do
    d=\${d##*/}
    [ -b "/dev/$d" ] || continue
    s=$(dd if="/dev/$d" bs=1 skip=440 count=4 2>/dev/null | hexdump -e '1/4 "%08x"')
    if [ "$s" = "$sig" ]; then
      case "$d" in *[0-9]) dev="/dev/\${d}p$part" ;; *) dev="/dev/$d$part" ;; esac
    fi
  done
  [ -z "$dev" ] && { tries=$((tries + 1)); sleep 0.1; }
done
# A root that cannot be found or mounted restarts the board rather than waiting at a shell nobody sees: the boot
# loader then counts the failed try and falls back to the previous root slot.
fail() { echo "initramfs: $1; restarting in 5 s"; sleep 5; reboot -f; exit 1; }
[ -n "$dev" ] || fail "no disk with signature $sig"
mount -t ext4 -o rw "$dev" /root || fail "cannot mount $dev"
mount --move /dev /root/dev
umount /proc /sys
exec switch_root /root /sbin/init
`;

export function buildInitramfs(
  busybox: Buffer,
  modules: { path: string; data: Buffer }[],
  epoch: number,
): Buffer {
  const entries: CpioEntry[] = [
    { path: 'bin', kind: 'dir', mode: 0o755 },
    { path: 'bin/busybox', kind: 'file', mode: 0o755, data: busybox },
    { path: 'etc', kind: 'dir', mode: 0o755 },
    {
      path: 'etc/modules-order',
      kind: 'file',
      mode: 0o644,
      data: Buffer.from(modules.map((m) => m.path).join('\n') + '\n'),
    },
    { path: 'init', kind: 'file', mode: 0o755, data: Buffer.from(INIT_SCRIPT) },
    { path: 'lib', kind: 'dir', mode: 0o755 },
    { path: 'lib/modules', kind: 'dir', mode: 0o755 },
  ];
  const dirs = new Set<string>();
  for (const m of modules) {
    const parts = m.path.split('/');
    for (let i = 1; i < parts.length; i++) dirs.add(`lib/modules/${parts.slice(0, i).join('/')}`);
    entries.push({ path: `lib/modules/${m.path}`, kind: 'file', mode: 0o644, data: m.data });
  }
  for (const d of dirs) entries.push({ path: d, kind: 'dir', mode: 0o755 });
  // gzip with Node's zlib: no name and a zero time in the header, so the bytes depend on the content only.
  return gzipSync(newcArchive(entries, epoch), { level: 9 });
}
