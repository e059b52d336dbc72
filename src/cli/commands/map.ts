/**
 * `vaekit map`: the posterior means of --data in two dimensions (PCA, UMAP, or the latent space
 * itself when it has two), as a scatter plot coloured by class: a PNG and an SVG beside it, and the
 * coordinates with --coords. For a 2-dimensional latent space of images also the decoded manifold
 * (manifold.png beside the map): a grid of images over the prior's quantiles 0.05 to 0.95.
 */
import { dirname, join, resolve } from 'node:path';
import { Option, type Command } from 'commander';
import { isImageShape, takeFirst } from '../../data/dataset.js';
import { Tensor } from '../../engine/tensor.js';
import { VaekitError } from '../../errors.js';
import { writeFileAtomic } from '../../io/atomic-write.js';
import { loadBundle } from '../../run/bundle.js';
import { prepareOutputFile } from '../../io/output.js';
import { rowsFormat, writeRows } from '../../io/rows.js';
import { encodeDataset } from '../../latent/encode.js';
import { manifoldGrid, projectLatents, PROJECTION_METHODS, UMAP_MAX_POINTS, type ProjectionMethod } from '../../latent/map.js';
import { latentMapChart } from '../../viz/charts.js';
import { describeModel, describePrior, imageDims } from '../../viz/figures.js';
import { lossOf } from '../../run/training-record.js';
import { gridFigurePng } from '../../viz/labelled-grid.js';
import { addDataOptions, addModelDirOption, addSeedOption, positiveInt, say, type DataFlags } from '../options.js';
import { checkPngName, className, classWord, dataClassName, labelFlag, lazyData, stepsValue } from './interpolate.js';

interface MapFlags extends DataFlags {
  model: string;
  method: ProjectionMethod;
  limit?: number;
  seed: number;
  grid: number;
  label?: string;
  coords?: string;
  out: string;
  overwrite?: boolean;
}

/** "-1.64", "0.00", "1.64". */
function twoPlaces(v: number): string {
  const text = v.toFixed(2);
  return text === '-0.00' ? '0.00' : text;
}

export function register(program: Command): void {
  const cmd = addModelDirOption(program.command('map'))
    .description('draw the posterior means in two dimensions (PCA, UMAP, or the latent space itself when it has two) coloured by class; for a 2-D latent space also the decoded manifold');
  addDataOptions(cmd, 'the examples to map', 'its test split')
    .addOption(new Option('--method <name>', `the projection of a latent space of more than two dimensions: "pca" or "umap" (at most ${UMAP_MAX_POINTS} points, a seeded subset beyond)`).choices([...PROJECTION_METHODS]).default('pca'))
    .option('--limit <n>', 'map only the first N examples, in stored order', positiveInt);
  addSeedOption(cmd, 'seed of UMAP and of its subset')
    .option('--grid <n>', '2-D latent spaces: images per side of the decoded manifold', stepsValue, 15)
    .option('--label <class>', 'conditional models: the class the manifold is decoded as (default: the first class)')
    .option('--coords <file>', 'also write each point\'s example index and coordinates (.csv with the class names, or .npy)')
    .option('--out <file>', 'the map (PNG; an SVG of it is written beside it)', 'latent-map.png')
    .option('--overwrite', 'replace an existing manifold.png beside --out')
    .action(async (flags: MapFlags) => {
      const bundle = loadBundle(flags.model);
      const { vae } = bundle;
      checkPngName(flags.out);
      const svgPath = flags.out.replace(/\.png$/i, '.svg');
      const label = labelFlag(bundle, flags.label, flags.model);
      const drawsManifold = vae.latent === 2 && isImageShape(vae.config.inputShape);
      const manifoldPath = join(dirname(flags.out), 'manifold.png');
      if (drawsManifold && resolve(manifoldPath) === resolve(flags.out)) {
        throw new VaekitError(`--out ${flags.out} is where the decoded manifold of this 2-D latent space goes: name the map otherwise, e.g. latent-map.png.`);
      }
      if (flags.coords !== undefined) rowsFormat(flags.coords, ['csv', 'npy']);
      // The map in both formats and the coordinates are what the user named; the manifold is not, so an existing one stays without --overwrite.
      const inputs = [flags.data, flags.labels];
      for (const path of [flags.out, svgPath, ...(flags.coords !== undefined ? [flags.coords] : [])]) prepareOutputFile(path, { inputs });
      if (drawsManifold) prepareOutputFile(manifoldPath, { inputs, unnamed: '--overwrite', overwrite: flags.overwrite === true });

      const loaded = await lazyData(flags, bundle)();
      if (flags.limit !== undefined && flags.limit > loaded.count) {
        throw new VaekitError(`--limit ${flags.limit} is more than the ${loaded.count} examples of ${loaded.source}.`);
      }
      const set = flags.limit === undefined ? loaded : takeFirst(loaded, flags.limit);
      if (set.count === 0) throw new VaekitError(`${set.source} has no examples to map.`);
      const codes = encodeDataset(vae, set);
      const projection = projectLatents(new Tensor(codes.mean, [codes.count, codes.latent]), flags.method, flags.seed);
      const k = projection.indices.length;
      const labels = set.labels === null ? null : Int32Array.from(projection.indices, (i) => set.labels![i]!);
      const labelNames = Array.from({ length: Math.max(vae.classes, set.labelNames?.length ?? 0, bundle.data.classNames?.length ?? 0) }, (_, c) => dataClassName(bundle, set, c));
      const how = projection.method === 'pca' ? 'PCA of the posterior means'
        : projection.method === 'umap' ? 'UMAP of the posterior means'
          : `the posterior means in the ${vae.latent}-D latent space`;
      const points = k === set.count ? `${k} examples` : `a random ${k} of ${set.count} examples (seed ${flags.seed})`;
      const chart = await latentMapChart({
        x: projection.x, y: projection.y, labels, labelNames,
        title: `Latent space of ${set.source}: ${how}`,
        subtitle: [describeModel(vae.config, lossOf(bundle.training)), points, flags.model].join(' · '),
        xTitle: projection.xTitle, yTitle: projection.yTitle,
      });

      let manifold: Uint8Array | null = null;
      let decodeAs: number | undefined;
      if (drawsManifold) {
        decodeAs = vae.classes === 0 ? undefined : label ?? 0;
        const grid = manifoldGrid(vae, flags.grid, decodeAs === undefined ? {} : { label: decodeAs });
        const size = vae.pixels;
        const n = flags.grid;
        manifold = gridFigurePng({
          ...imageDims(vae.config.inputShape, 'This model'),
          title: 'The decoded manifold of the 2-D latent space',
          subtitle: [
            `z at the quantiles 0.05 to 0.95 of ${describePrior(vae.config)}: z0 across, z1 down`,
            ...(decodeAs === undefined ? [] : [`decoded as ${classWord(bundle.data.source)} ${className(bundle, decodeAs)}`]),
            flags.model,
          ].join(' · '),
          cells: Array.from({ length: n }, (_, r) => Array.from({ length: n }, (__, c) => grid.images.data.subarray((r * n + c) * size, (r * n + c + 1) * size))),
          rowLabels: grid.z1.map((v) => `z1 = ${twoPlaces(v)}`),
          columnLabels: grid.z0.map((v) => `z0 = ${twoPlaces(v)}`),
        });
      }

      if (flags.coords !== undefined) {
        const values = new Float32Array(k * 3);
        for (let i = 0; i < k; i++) {
          values[3 * i] = projection.indices[i]!;
          values[3 * i + 1] = projection.x[i]!;
          values[3 * i + 2] = projection.y[i]!;
        }
        writeRows(flags.coords, { values, count: k, shape: [3], columns: ['index', 'x', 'y'], labels, labelNames }, ['csv', 'npy']);
      }
      if (manifold !== null) writeFileAtomic(manifoldPath, manifold);
      writeFileAtomic(svgPath, chart.svg);
      writeFileAtomic(flags.out, chart.png);
      const also = [svgPath, ...(manifold !== null ? [manifoldPath] : []), ...(flags.coords !== undefined ? [flags.coords] : [])];
      say(`wrote ${flags.out} (${how}, ${points}) and ${also.join(', ')}`);
    });
}
