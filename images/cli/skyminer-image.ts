#!/usr/bin/env node
// skyminer-image: the image builder's command. Each subcommand is one entry in COMMANDS.
import { realpathSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { APK_USAGE, apkCommand } from './apk-command.js';
import { BUILD_USAGE, buildCommand } from './build-command.js';
import { BUNDLE_USAGE, bundleCommand } from './bundle-command.js';
import { INSPECT_USAGE, inspectCommand } from './inspect-command.js';
import type { ProgressOut } from './progress.js';
import { RELEASE_CHECK_USAGE, releaseCheckCommand } from './release-check-command.js';
import { SKYWIRE_USAGE, skywireCommand } from './skywire-command.js';
import { VISOR_BUNDLE_USAGE, visorBundleCommand } from './visor-bundle-command.js';

export interface CommandIo {
  out(text: string): void;
  err(text: string): void;
  /** stderr when it is a terminal: long stages draw a live progress line on it. */
  terminal?: ProgressOut;
}

export interface Command {
  summary: string;
  usage: string;
  run(args: string[], io: CommandIo): Promise<number>;
}

export const COMMANDS: Record<string, Command> = {
  apk: { summary: 'install Alpine packages into an image root', usage: APK_USAGE, run: apkCommand },
  build: { summary: 'build a card image for a board profile', usage: BUILD_USAGE, run: buildCommand },
  bundle: {
    summary: 'make an update bundle from an image, check one, or make a signing key',
    usage: BUNDLE_USAGE,
    run: bundleCommand,
  },
  inspect: {
    summary: 'print the partition table, bootloader, boot config and root of an image',
    usage: INSPECT_USAGE,
    run: inspectCommand,
  },
  'release-check': {
    summary: "build an Alpine image for QEMU virt with Alpine's kernel and boot it (needs an Alpine mirror)",
    usage: RELEASE_CHECK_USAGE,
    run: releaseCheckCommand,
  },
  'visor-bundle': {
    summary: 'sign a built skywire binary into a visor bundle boards install, or check one',
    usage: VISOR_BUNDLE_USAGE,
    run: visorBundleCommand,
  },
  skywire: {
    summary: 'build the pinned Skywire for the given architectures (cached)',
    usage: SKYWIRE_USAGE,
    run: skywireCommand,
  },
};

function help(): string {
  const lines = Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(15)}${c.summary}`);
  const usages = Object.values(COMMANDS).map((c) => c.usage);
  return `usage: skyminer-image COMMAND [ARGS...]\n\ncommands:\n${lines.join('\n')}\n\n${usages.join('\n')}\n`;
}

/** Runs one command line; returns the exit code (0 done, 1 refused or failed, 2 usage). */
export async function main(argv: string[], io: CommandIo): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '-h' || name === '--help' || name === 'help') {
    io.out(help());
    return name ? 0 : 2;
  }
  const command = COMMANDS[name];
  if (!command) {
    io.err(`skyminer-image: unknown command '${name}'\n${help()}`);
    return 2;
  }
  return command.run(rest, io);
}

// Run only when started as a program (npm's bin link is a symlink, hence realpath), not when imported.
if (process.argv[1] && import.meta.url === pathToFileURL(realpathSync(process.argv[1])).href) {
  const io: CommandIo = {
    out: (t) => process.stdout.write(t),
    err: (t) => process.stderr.write(t),
    ...(process.stderr.isTTY ? { terminal: process.stderr } : {}),
  };
  process.exitCode = await main(process.argv.slice(2), io);
}
