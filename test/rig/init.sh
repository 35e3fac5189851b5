#!/bin/busybox sh
# The rig's init: mounts the kernel's file systems, loads the modules the run asks for, runs /rig/run.sh and
# powers off. The host reads RIG-* lines from the serial console.
/bin/busybox --install -s /bin
export PATH=/usr/bin:/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mount -t tmpfs tmpfs /tmp
triple=$(cat /etc/triple)
export LD_LIBRARY_PATH=/lib/$triple:/usr/lib/$triple HOME=/tmp
ifconfig lo 127.0.0.1 up
for m in $(cat /rig/modules 2>/dev/null); do modprobe "$m" || echo "RIG-MODULE-FAILED $m"; done
echo "RIG-READY $(uname -r)"
cd /opt/skyminer
sh /rig/run.sh
echo "RIG-EXIT $?"
sync
poweroff -f
