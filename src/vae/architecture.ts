/**
 * Builds the encoder and decoder layer stacks of a VaeConfig (see VaeConfig.architecture).
 * A conditional model's label enters as a one-hot vector appended to the encoder's input (as extra
 * channels, one plane per class, for a conv encoder; one channel per class at every point for a
 * conv1d or recurrent encoder) and to the decoder's input z.
 */
import { Conv1d } from '../nn/conv1d.js';
import { Conv2d } from '../nn/conv2d.js';
import { ConvTranspose1d } from '../nn/conv-transpose1d.js';
import { ConvTranspose2d } from '../nn/conv-transpose2d.js';
import { Dense } from '../nn/dense.js';
import type { Layer } from '../nn/layer.js';
import { RecurrentWindow } from '../nn/recurrent-window.js';
import { RepeatVector } from '../nn/repeat-vector.js';
import { denseLayers } from '../nn/sequential.js';
import { TimeDistributed } from '../nn/time-distributed.js';
import { imageSides, inputSize, type VaeConfig } from './config.js';

/**
 * The grid a conv encoder slides over, channels-last: [height, width] and channels for an image,
 * [length] and channels for a series window (conv1d). Each stride-2 conv halves every side.
 */
function convGrid(c: VaeConfig): { sides: number[]; channels: number } {
  if (c.architecture === 'conv1d') return { sides: [c.sequence!.length], channels: c.sequence!.channels };
  const { height, width, channels } = imageSides(c)!;
  return { sides: [height, width], channels };
}

/** Values per row the encoder takes: the example, plus the label's one-hot (one per position for conv and conv1d). */
export function encoderInputSize(c: VaeConfig): number {
  if (c.architecture === 'dense') return inputSize(c) + c.classes;
  if (c.architecture === 'recurrent') return c.sequence!.length * (c.sequence!.channels + c.classes);
  const { sides, channels } = convGrid(c);
  return sides.reduce((a, b) => a * b, 1) * (channels + c.classes);
}

/** A stride-2 conv (k4, s2, p1) from `sides` x inC to half the sides x outC: Conv2d for images, Conv1d for series. */
function downConv(name: string, sides: number[], inC: number, outC: number, c: VaeConfig): Layer {
  const shared = { name, inChannels: inC, outChannels: outC, kernel: 4, stride: 2, padding: 1, activation: c.activation };
  return sides.length === 1 ? new Conv1d({ ...shared, inLength: sides[0]! }) : new Conv2d({ ...shared, inHeight: sides[0]!, inWidth: sides[1]! });
}

/** A stride-2 transposed conv (k4, s2, p1) from `sides` x inC to twice the sides x outC. */
function upConv(name: string, sides: number[], inC: number, outC: number, activation: VaeConfig['activation']): Layer {
  const shared = { name, inChannels: inC, outChannels: outC, kernel: 4, stride: 2, padding: 1, activation };
  return sides.length === 1
    ? new ConvTranspose1d({ ...shared, inLength: sides[0]! })
    : new ConvTranspose2d({ ...shared, inHeight: sides[0]!, inWidth: sides[1]! });
}

export function buildEncoder(c: VaeConfig): Layer[] {
  if (c.architecture === 'dense') {
    return denseLayers('encoder', [encoderInputSize(c), ...c.encoderHidden, 2 * c.latent], c.activation, 'linear');
  }
  if (c.architecture === 'recurrent') {
    const { length, channels } = c.sequence!;
    const hidden = c.encoderHidden[0]!;
    return [
      new RecurrentWindow({ name: 'encoder.rnn', cell: c.cell!, inputs: channels + c.classes, hidden, time: length, returnSequences: false }),
      ...denseLayers('encoder', [hidden, 2 * c.latent], c.activation, 'linear'),
    ];
  }
  const layers: Layer[] = [];
  const grid = convGrid(c);
  let sides = grid.sides;
  let ch = grid.channels + c.classes;
  c.convChannels.forEach((out, i) => {
    layers.push(downConv(`encoder.conv_${i}`, sides, ch, out, c));
    sides = sides.map((s) => s / 2);
    ch = out;
  });
  const flat = sides.reduce((a, b) => a * b, 1) * ch;
  layers.push(...denseLayers('encoder', [flat, ...c.encoderHidden, 2 * c.latent], c.activation, 'linear'));
  return layers;
}

export function buildDecoder(c: VaeConfig): Layer[] {
  const input = c.latent + c.classes;
  if (c.architecture === 'dense') {
    return denseLayers('decoder', [input, ...c.decoderHidden, inputSize(c)], c.activation, 'linear');
  }
  if (c.architecture === 'recurrent') {
    const { length, channels } = c.sequence!;
    const hidden = c.decoderHidden[0]!;
    return [
      new RepeatVector({ name: 'decoder.repeat', width: input, times: length }),
      new RecurrentWindow({ name: 'decoder.rnn', cell: c.cell!, inputs: input, hidden, time: length, returnSequences: true }),
      new TimeDistributed(new Dense({ name: 'decoder.dense_0', inputs: hidden, outputs: channels, activation: 'linear' }), length),
    ];
  }
  const grid = convGrid(c);
  const n = c.convChannels.length;
  const factor = 2 ** n;
  let sides = grid.sides.map((s) => s / factor);
  let ch = c.convChannels[n - 1]!;
  const layers: Layer[] = [
    ...denseLayers('decoder', [input, ...c.decoderHidden], c.activation, c.activation),
    new Dense({ name: `decoder.dense_${c.decoderHidden.length}`, inputs: c.decoderHidden.at(-1) ?? input, outputs: sides.reduce((a, b) => a * b, 1) * ch, activation: c.activation }),
  ];
  for (let i = n - 1; i >= 0; i--) {
    const out = i === 0 ? grid.channels : c.convChannels[i - 1]!;
    layers.push(upConv(`decoder.deconv_${n - 1 - i}`, sides, ch, out, i === 0 ? 'linear' : c.activation));
    sides = sides.map((s) => s * 2);
    ch = out;
  }
  return layers;
}
