import { formatInspect, inspectImage } from '../inspect.js';
import type { CommandIo } from './skyminer-image.js';

export const INSPECT_USAGE = 'usage: skyminer-image inspect IMAGE';

export async function inspectCommand(args: string[], io: CommandIo): Promise<number> {
  if (args.length !== 1 || args[0]!.startsWith('-')) {
    io.err(`skyminer-image inspect: name one image file\n${INSPECT_USAGE}\n`);
    return 2;
  }
  try {
    io.out(formatInspect(await inspectImage(args[0]!)));
    return 0;
  } catch (err) {
    io.err(`skyminer-image inspect: ${args[0]}: ${(err as Error).message.split('\n')[0]}\n`);
    return 1;
  }
}
