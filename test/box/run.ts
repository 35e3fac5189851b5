// Boots the QEMU box by hand: `node dist/test/box/run.js IMAGE [DIR]` (`make box` builds the image with a box
// secret first). Every board's serial console goes to DIR/board<N>.log (watch one with `tail -f`), the manager's
// line edges to DIR/lines.log; type into the manager's console here. Ctrl-C switches the whole box off.
import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Box } from './box.js';

const [image, dirArg] = process.argv.slice(2);
if (!image) {
  process.stderr.write('usage: node dist/test/box/run.js IMAGE [LOG-DIR]\n');
  process.exit(2);
}
const dir = resolve(dirArg ?? 'out/box');
mkdirSync(dir, { recursive: true });
const box = await Box.start({ image, boards: 4 });
const seen = new Map<number, number>();
for (const b of box.boards) writeFileSync(join(dir, `board${b.slot}.log`), '');
writeFileSync(join(dir, 'lines.log'), '');
let edges = 0;
// Copies what arrived since the last look: consoles to their files, the manager's console to this terminal too.
const timer = setInterval(() => {
  for (const b of box.boards) {
    const text = b.console.output;
    const from = seen.get(b.slot) ?? 0;
    if (text.length > from) {
      appendFileSync(join(dir, `board${b.slot}.log`), text.slice(from));
      if (b.slot === 1) process.stdout.write(text.slice(from));
      seen.set(b.slot, text.length);
    }
  }
  for (; edges < box.edges.length; edges++) {
    const e = box.edges[edges]!;
    appendFileSync(
      join(dir, 'lines.log'),
      `${new Date(e.atMs).toISOString()} line ${e.line} -> ${e.level}\n`,
    );
  }
}, 200);
process.stderr.write(
  `box: consoles in ${dir}/board<N>.log, line edges in ${dir}/lines.log; Ctrl-C ends it\n`,
);
process.stdin.setEncoding('latin1');
process.stdin.on('data', (d: string) => {
  if (box.manager.powered) box.manager.console.send(d.replace(/\n/g, '\r'));
});
process.once('SIGINT', () => {
  clearInterval(timer);
  void box.close().then(() => process.exit(0));
});
