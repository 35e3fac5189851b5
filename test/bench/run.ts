// `make bench`: runs every `*.bench.js` beside this file (compiled from `test/bench/*.bench.ts`) in name order;
// `run.js NAME` runs one.
// Each exports a default async function that prints its own figures; a failing one is reported, the rest still run.
import { readdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const only = process.argv[2];
const all = (await readdir(here)).filter((f) => f.endsWith('.bench.js')).sort();
// A name runs that bench alone (`skywire` is not also `qemu-skywire`); else every bench whose name holds it.
const files = !only
  ? all
  : all.includes(`${only}.bench.js`)
    ? [`${only}.bench.js`]
    : all.filter((f) => f.includes(only));
let failed = 0;
for (const file of files) {
  console.log(`\n== ${file.replace(/\.bench\.js$/, '')}`);
  try {
    const mod = (await import(pathToFileURL(join(here, file)).href)) as { default: () => Promise<void> };
    await mod.default();
  } catch (err) {
    failed++;
    console.log(`benchmark failed: ${err instanceof Error ? err.message : String(err)}`);
  }
}
process.exitCode = failed > 0 ? 1 : 0;
