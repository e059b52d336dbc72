/** A Keras-like summary table of a Vae: layer, output shape, activation, parameters. */
import { imageSides } from './config.js';
import type { Vae } from './model.js';
import type { LossName } from './objective.js';

/** What the model is trained with, when the summary knows it: the notebook's loss uses no likelihood. */
export interface SummaryOptions {
  loss?: LossName;
}

/** The decoder's output and what scores it, in words. */
function outputWords(vae: Vae, loss: LossName | undefined): string {
  const activation = imageSides(vae.config) === null ? 'linear' : 'sigmoid';
  return loss === 'notebook-mse' ? `${activation} (squared error to the target)` : `${activation} (${vae.config.likelihood} likelihood)`;
}

interface Row {
  layer: string;
  shape: string;
  activation: string;
  params: number;
}

export function summaryRows(vae: Vae, options: SummaryOptions = {}): Row[] {
  const conditional = vae.classes > 0 ? ` + label (${vae.classes} classes)` : '';
  const q = vae.config.sequence;
  // A series window: its points and channels (a conv1d encoder's layers show [length, channels] after it).
  const what = q === null ? conditional.slice(3) : `window: ${q.length} points x ${q.channels} channel${q.channels === 1 ? '' : 's'}${conditional}`;
  const rows: Row[] = [{ layer: 'input (Input)', shape: `(None, ${vae.pixels})`, activation: what, params: 0 }];
  const enc = vae.encoder.layers;
  const shape = (dims: readonly number[]): string => `(None, ${dims.join(', ')})`;
  enc.forEach((l, i) => {
    const last = i === enc.length - 1;
    rows.push({
      layer: `${l.name} (${l.kind})`,
      shape: shape(l.outputShape),
      activation: last ? `linear: mean ${vae.latent} | log-variance ${vae.latent}` : l.activation,
      params: l.parameterCount,
    });
  });
  rows.push({ layer: 'z (Reparameterize)', shape: `(None, ${vae.latent})`, activation: 'mean + exp(0.5 logvar) * eps', params: 0 });
  const dec = vae.decoder.layers;
  dec.forEach((l, i) => {
    const last = i === dec.length - 1;
    rows.push({
      layer: `${l.name} (${l.kind})`,
      shape: shape(l.outputShape),
      activation: last ? outputWords(vae, options.loss) : l.activation,
      params: l.parameterCount,
    });
  });
  if (vae.likelihood.learnedVariance) {
    rows.push({ layer: 'likelihood.logvar (Parameter)', shape: `(${vae.pixels},)`, activation: `learned log-variance per ${imageSides(vae.config) === null ? 'value' : 'pixel'}`, params: vae.pixels });
  }
  if (!vae.prior.standard) {
    const K = vae.prior.components;
    rows.push({
      layer: 'prior (MixtureOfGaussians)',
      shape: `(${K}, ${vae.latent})`,
      activation: `learned: ${K} means, log-variances and weights`,
      params: K * (2 * vae.latent + 1),
    });
  }
  return rows;
}

export function formatSummary(vae: Vae, options: SummaryOptions = {}): string {
  const rows = summaryRows(vae, options);
  const header: Row = { layer: 'Layer (type)', shape: 'Output Shape', activation: 'Activation', params: Number.NaN };
  const cell = (r: Row): [string, string, string, string] => [
    r.layer, r.shape, Number.isNaN(r.params) ? 'Param #' : r.params.toLocaleString('en-US'), r.activation,
  ];
  const all = [cell(header), ...rows.map(cell)];
  const widths = [0, 1, 2, 3].map((c) => Math.max(...all.map((r) => r[c]!.length)));
  const line = (r: [string, string, string, string]): string =>
    [r[0].padEnd(widths[0]!), r[1].padEnd(widths[1]!), r[2].padStart(widths[2]!), r[3]].join('   ').trimEnd();
  const total = vae.params.count;
  const width = widths.reduce((a, b) => a + b, 0) + 9;
  const out = [
    `Model: "vae" (preset ${vae.config.preset}, ${options.loss === 'notebook-mse' ? 'trained with the notebook\'s squared error, no likelihood' : `${vae.config.likelihood} likelihood`}, prior ${vae.prior.standard ? 'N(0, I)' : `mixture of ${vae.prior.components} Gaussians`})`,
    '='.repeat(width),
    line(all[0]!),
    '='.repeat(width),
    ...all.slice(1).map(line),
    '='.repeat(width),
    `Total params: ${total.toLocaleString('en-US')}`,
    `Trainable params: ${total.toLocaleString('en-US')}`,
    'Non-trainable params: 0',
  ];
  return out.join('\n');
}
