#!/bin/sh
# Stands in for smartctl in the simulator: `smartctl-stand-in.sh DIR [smartctl options...] /dev/sdX` prints
# DIR/sdX.json (a real `smartctl --json` report) and exits with DIR/sdX.exit, the report's own exit status,
# so the firmware's real smartctl-reading code runs unchanged against emulated disks.
dir=$1
shift
for device; do :; done
name=$(basename "$device")
if [ ! -f "$dir/$name.json" ]; then
  printf '{"smartctl":{"messages":[{"string":"Smartctl open device: %s failed: No such device","severity":"error"}],"exit_status":2}}\n' "$device"
  exit 2
fi
cat "$dir/$name.json"
exit "$(cat "$dir/$name.exit" 2>/dev/null || echo 0)"
