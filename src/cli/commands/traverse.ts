/**
 * `vaekit traverse`: what each of the most informative latent dimensions does. Dimensions are ranked
 * by their average KL to N(0, 1) over up to 1000 examples of --data (src/latent/traverse.ts); each
 * row of the figure moves one of them from -3 to +3 prior standard deviations around a base code
 * (an example's posterior mean with --image, the prior's mean otherwise), the others held fixed.
 * Inactive dimensions (average KL below 0.01 nats) are labelled so and framed in grey.
 */
import type { Command } from 'commander';
import { VaekitError } from '../../errors.js';
import { writeFileAtomic } from '../../io/atomic-write.js';
import { loadBundle } from '../../run/bundle.js';
import { prepareOutputFile } from '../../io/output.js';
import { INACTIVE_KL_NATS, KL_EXAMPLES, priorMarginals, rankLatentDimensions, traversalOffsets, traverse } from '../../latent/traverse.js';
import { gridFigurePng } from '../../viz/labelled-grid.js';
import { describeModel, imageDims } from '../../viz/figures.js';
import { lossOf } from '../../run/training-record.js';
import { addDataOptions, addModelDirOption, positiveInt, say, type DataFlags } from '../options.js';
import {
  checkPngName, className, classWord, labelFlag, lazyData, parseExampleRef, posteriorMean, resolveExample, shortNumber, stepsValue, type Example,
} from './interpolate.js';

interface TraverseFlags extends DataFlags {
  model: string;
  image?: string;
  dims: number;
  steps: number;
  label?: string;
  out: string;
}

/** "-3σ", "-1.5σ", "0σ", "+3σ". */
export function sigmaLabel(v: number): string {
  const text = shortNumber(Math.abs(v)).replace(/\.0$/, '');
  return text === '0' ? '0σ' : `${v < 0 ? '-' : '+'}${text}σ`;
}

export function register(program: Command): void {
  const cmd = addModelDirOption(program.command('traverse'))
    .description(`move the most informative latent dimensions (by average KL; below ${INACTIVE_KL_NATS} nats: inactive, framed in grey) one at a time from -3 to +3 prior standard deviations, and draw the decoded images`)
    .option('--image <example>', 'the base: an index into --data or a PNG/JPEG image file, encoded to its posterior mean (default: the prior\'s mean)')
    .option('--dims <k>', 'the number of dimensions drawn, the most informative first (by average KL)', positiveInt, 10)
    .option('--steps <n>', 'values per dimension, from -3 to +3 standard deviations', stepsValue, 7);
  addDataOptions(cmd, `the examples the dimensions' KL is averaged over (up to ${KL_EXAMPLES}, spread evenly) and --image indexes`, 'its test split')
    .option('--label <class>', 'conditional models: the class decoded (default: the --image example\'s class, else the first class)')
    .option('--out <file>', 'the figure (PNG)', 'traversal.png')
    .action(async (flags: TraverseFlags) => {
      const bundle = loadBundle(flags.model);
      const { vae } = bundle;
      const dims = imageDims(vae.config.inputShape, `${flags.model}'s model`);
      checkPngName(flags.out);
      const label = labelFlag(bundle, flags.label, flags.model);
      const ref = flags.image === undefined ? null : parseExampleRef(flags.image, '--image');
      const offsets = traversalOffsets(flags.steps);
      prepareOutputFile(flags.out);
      const data = lazyData(flags, bundle);
      const set = await data();
      if (set.count === 0) throw new VaekitError(`${set.source} has no examples to measure the latent dimensions' KL on.`);
      const image: Example | null = ref === null ? null : await resolveExample(bundle, ref, data, '--image');
      const imageLabel = image === null || vae.classes === 0 ? null : image.label ?? label ?? null;
      const base = image === null ? Float32Array.from(priorMarginals(vae).mean) : posteriorMean(vae, image.values, imageLabel);
      const decodeAs = vae.classes === 0 ? undefined : label ?? imageLabel ?? 0;

      const ranking = rankLatentDimensions(vae, set);
      const chosen = ranking.dimensions.slice(0, Math.min(flags.dims, vae.latent));
      const result = traverse(vae, base, chosen.map((d) => d.dim), offsets, decodeAs === undefined ? {} : { label: decodeAs });
      const size = vae.pixels;
      const cells = chosen.map((_, i) => offsets.map((__, j) => result.images.data.subarray((i * offsets.length + j) * size, (i * offsets.length + j + 1) * size)));
      const rowLabels = chosen.map((d) => `z${d.dim} (KL ${d.kl.toFixed(2)} nats${d.active ? '' : ', inactive'})`);
      const marks = chosen.flatMap((d, i) => (d.active ? [] : offsets.map((_, j) => ({ row: i, column: j, color: '#d4d4d4' }))));
      const inactive = ranking.dimensions.filter((d) => !d.active).length;
      const around = image === null ? (vae.prior.standard ? 'the prior mean (z = 0)' : 'the mixture prior\'s mean') : image.name;
      const details = [
        describeModel(vae.config, lossOf(bundle.training)),
        ...(decodeAs === undefined ? [] : [`decoded as ${classWord(bundle.data.source)} ${className(bundle, decodeAs)}`]),
        `most KL${ranking.klToPrior ? '' : ' to N(0, 1)'} first (${ranking.examples} of ${set.source})`,
        `${inactive} of ${vae.latent} inactive`,
        ...(vae.prior.standard ? [] : ['σ: the mixture\'s standard deviation']),
      ];
      const png = gridFigurePng({
        ...dims,
        title: `Latent traversal around ${around}`,
        subtitle: details.join(' · '),
        cells,
        rowLabels,
        columnLabels: offsets.map(sigmaLabel),
        marks,
      });
      writeFileAtomic(flags.out, png);
      say(`wrote ${flags.out} (${chosen.length} dimensions x ${offsets.length} values around ${around}; ${inactive} of ${vae.latent} dimensions inactive)`);
    });
}
