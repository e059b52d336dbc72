/**
 * Builds the encoder and decoder layer stacks of a VaeConfig (see VaeConfig.architecture).
 * A conditional model's label enters as a one-hot vector appended to the encoder's input (as extra
 * channels, one plane per class, for a conv encoder) and to the decoder's input z.
 */
import { Conv2d } from '../nn/conv2d.js';
import { ConvTranspose2d } from '../nn/conv-transpose2d.js';
import { Dense } from '../nn/dense.js';
import type { Layer } from '../nn/layer.js';
import { denseLayers } from '../nn/sequential.js';
import type { VaeConfig } from './config.js';

/** Values per row the encoder takes: the image, plus the label's one-hot (planes for conv). */
export function encoderInputSize(c: VaeConfig): number {
  const pixels = c.imageHeight * c.imageWidth;
  return c.architecture === 'conv' ? pixels * (c.imageChannels + c.classes) : pixels * c.imageChannels + c.classes;
}

export function buildEncoder(c: VaeConfig): Layer[] {
  if (c.architecture === 'dense') {
    return denseLayers('encoder', [encoderInputSize(c), ...c.encoderHidden, 2 * c.latent], c.activation, 'linear');
  }
  const layers: Layer[] = [];
  let [h, w, ch] = [c.imageHeight, c.imageWidth, c.imageChannels + c.classes];
  c.convChannels.forEach((out, i) => {
    layers.push(new Conv2d({
      name: `encoder.conv_${i}`, inHeight: h, inWidth: w, inChannels: ch, outChannels: out,
      kernel: 4, stride: 2, padding: 1, activation: c.activation,
    }));
    [h, w, ch] = [h / 2, w / 2, out];
  });
  layers.push(...denseLayers('encoder', [h * w * ch, ...c.encoderHidden, 2 * c.latent], c.activation, 'linear'));
  return layers;
}

export function buildDecoder(c: VaeConfig): Layer[] {
  const input = c.latent + c.classes;
  const pixels = c.imageHeight * c.imageWidth * c.imageChannels;
  if (c.architecture === 'dense') {
    return denseLayers('decoder', [input, ...c.decoderHidden, pixels], c.activation, 'linear');
  }
  const n = c.convChannels.length;
  const factor = 2 ** n;
  let [h, w, ch] = [c.imageHeight / factor, c.imageWidth / factor, c.convChannels[n - 1]!];
  const layers: Layer[] = [
    ...denseLayers('decoder', [input, ...c.decoderHidden], c.activation, c.activation),
    new Dense({ name: `decoder.dense_${c.decoderHidden.length}`, inputs: c.decoderHidden.at(-1) ?? input, outputs: h * w * ch, activation: c.activation }),
  ];
  for (let i = n - 1; i >= 0; i--) {
    const out = i === 0 ? c.imageChannels : c.convChannels[i - 1]!;
    layers.push(new ConvTranspose2d({
      name: `decoder.deconv_${n - 1 - i}`, inHeight: h, inWidth: w, inChannels: ch, outChannels: out,
      kernel: 4, stride: 2, padding: 1, activation: i === 0 ? 'linear' : c.activation,
    }));
    [h, w, ch] = [h * 2, w * 2, out];
  }
  return layers;
}
