// The cross toolchains per board architecture: Debian's triples for glibc, zig's targets for musl.

export const CROSS = {
  aarch64: {
    triple: 'aarch64-linux-gnu',
    gypArch: 'arm64',
    elfMachine: 0xb7,
    zigTarget: ['-target', 'aarch64-linux-musl', '-mcpu=cortex_a53'],
  },
  // The boards' cores: Cortex-A53 (A64, H5) and Cortex-A7 (H3); zig's generic arm CPU would mean ARMv6.
  armv7: {
    triple: 'arm-linux-gnueabihf',
    gypArch: 'arm',
    elfMachine: 0x28,
    zigTarget: ['-target', 'arm-linux-musleabihf', '-mcpu=cortex_a7'],
  },
} as const;
