/**
 * The PyTorch export: `model.py`, plain torch.nn modules that mirror the model's config (Encoder,
 * Decoder, and a VAE with vaekit's training objective, so training goes on on a GPU), and
 * `model.safetensors`, the weights under PyTorch's names (the VAE's state_dict keys) in PyTorch's
 * layouts. Browser-safe: files in memory, no fs.
 *
 * Layouts. PyTorch takes images channels-first [N, C, H, W]; vaekit keeps them channels-last. The
 * modules are the natural PyTorch ones (nn.Flatten of an NCHW map, nn.Unflatten to one) and the
 * weights are permuted to fit them:
 * - Linear: vaekit's kernel [in, out] transposed to [out, in]. Where a Linear reads a flattened
 *   image or conv map (a dense encoder's first layer, the first after a conv encoder's convs) its
 *   input columns go from vaekit's (h, w, c) order to PyTorch's (c, h, w); where it writes one (a
 *   dense decoder's last layer, a conv decoder's layer before the first transposed conv) its output
 *   rows and bias do. A conditional dense encoder's label columns stay after the image's.
 * - Conv2d: [k, k, in, out] -> [out, in, k, k]; ConvTranspose2d: [k, k, out, in] -> [in, out, k, k]
 *   (both a permutation (3, 2, 0, 1); both are cross-correlations with symmetric padding in both).
 * - likelihood.logvar: (h, w, c) order -> [C, H, W]; the mixture prior's tensors as they are.
 * model.py carries the mapping back (VAEKIT_NAMES) and writes a vaekit model folder from a VAE.
 *
 * The Python is src/export/pytorch/model.py, a real file (compiled by the tests) that reaches this
 * module as a string through scripts/embed-python.ts; what varies by model (the config, data and
 * training records, the objective's settings, VAEKIT_NAMES, the docstring's input and output
 * shapes) is filled in for its __VAEKIT_*__ names, so that the exported model.py stands alone.
 */
import type { DataInfo } from '../run/bundle-format.js';
import { encodeSafetensors, type NamedTensor } from '../io/safetensors.js';
import { Conv2d } from '../nn/conv2d.js';
import { ConvTranspose2d } from '../nn/conv-transpose2d.js';
import { Dense } from '../nn/dense.js';
import type { Layer } from '../nn/layer.js';
import { imageSides, inputSize, type VaeConfig } from '../vae/config.js';
import type { Vae } from '../vae/model.js';
import type { ExportFile } from './index.js';
import { MODEL_PY, TRAIN_PY } from './pytorch/python.js';

export const PYTORCH_MODULE_FILE = 'model.py';
export const PYTORCH_WEIGHTS_FILE = 'model.safetensors';
/** The DistributedDataParallel trainer for torchrun (src/export/pytorch/train.py, as it is: it reads model.py). */
export const PYTORCH_TRAINER_FILE = 'train.py';

/** How a tensor's layout changes between vaekit and PyTorch (model.py's _to_vaekit undoes each). */
type Layout = 'same' | 'chw' | 'linear' | 'linear_chw_in' | 'linear_chw_out' | 'conv2d' | 'conv_transpose2d';

/** One parameter: its PyTorch name, vaekit name, layout change and the (h, w, c) map it permutes. */
interface Mapped {
  torch: string;
  vaekit: string;
  layout: Layout;
  hwc: [number, number, number] | null;
  /** The tensor in PyTorch's layout. */
  tensor: NamedTensor;
}

/**
 * perm[t] = the channels-last index (y * w + x) * c + ch of the channels-first index
 * t = ch * h * w + y * w + x, for t < h*w*c; indices past the map (label columns) map to themselves.
 */
function chwToHwc(hwc: [number, number, number], length: number): Int32Array {
  const [h, w, c] = hwc;
  const n = h * w * c;
  const perm = new Int32Array(length);
  for (let t = 0; t < length; t++) {
    if (t >= n) {
      perm[t] = t;
      continue;
    }
    const ch = Math.floor(t / (h * w));
    const pos = t % (h * w);
    perm[t] = pos * c + ch;
  }
  return perm;
}

/** A vector reordered: out[t] = v[perm[t]]. */
function permuteVector(v: Float32Array, perm: Int32Array): Float32Array {
  const out = new Float32Array(v.length);
  for (let t = 0; t < v.length; t++) out[t] = v[perm[t]!]!;
  return out;
}

/** vaekit's Dense kernel [inputs, outputs] as PyTorch's Linear weight [outputs, inputs], rows and columns permuted. */
function linearWeight(kernel: Float32Array, inputs: number, outputs: number, inPerm: Int32Array | null, outPerm: Int32Array | null): Float32Array {
  const out = new Float32Array(inputs * outputs);
  for (let o = 0; o < outputs; o++) {
    const vo = outPerm === null ? o : outPerm[o]!;
    for (let i = 0; i < inputs; i++) {
      const vi = inPerm === null ? i : inPerm[i]!;
      out[o * inputs + i] = kernel[vi * outputs + vo]!;
    }
  }
  return out;
}

/** A 4-D tensor [s0, s1, s2, s3] permuted by (3, 2, 0, 1) to [s3, s2, s0, s1]. */
function permute3201(v: Float32Array, shape: readonly number[]): NamedTensor {
  const [s0, s1, s2, s3] = shape as [number, number, number, number];
  const out = new Float32Array(v.length);
  let t = 0;
  for (let a = 0; a < s3; a++) {
    for (let b = 0; b < s2; b++) {
      for (let c = 0; c < s0; c++) {
        for (let d = 0; d < s1; d++) out[t++] = v[((c * s1 + d) * s2 + b) * s3 + a]!;
      }
    }
  }
  return { shape: [s3, s2, s0, s1], data: out };
}

/**
 * The parameters of one of model.py's nn.Sequential stacks (`prefix`.net), in order. The indices
 * follow model.py's construction: every layer but the last is followed by its activation module
 * (nn.Identity for 'linear'), an encoder's convs by nn.Flatten, a decoder's dense layers by
 * nn.Unflatten before the transposed convs.
 */
function stackParameters(vae: Vae, prefix: 'encoder' | 'decoder', layers: readonly Layer[]): Mapped[] {
  const image = imageSides(vae.config);
  const imageHwc: [number, number, number] | null = image === null ? null : [image.height, image.width, image.channels];
  const mapped: Mapped[] = [];
  let index = 0;
  layers.forEach((layer, i) => {
    const previous = layers[i - 1];
    const next = layers[i + 1];
    if (layer instanceof Dense && previous instanceof Conv2d) index += 1; // nn.Flatten
    if (layer instanceof ConvTranspose2d && previous instanceof Dense) index += 1; // nn.Unflatten
    const kernel = vae.params.get(`${layer.name}.kernel`);
    const bias = vae.params.get(`${layer.name}.bias`);
    const at = `${prefix}.net.${index}`;
    if (layer instanceof Dense) {
      let inHwc: [number, number, number] | null = null;
      if (previous instanceof Conv2d) inHwc = previous.outputShape as [number, number, number];
      else if (previous === undefined && prefix === 'encoder') inHwc = imageHwc;
      let outHwc: [number, number, number] | null = null;
      if (next instanceof ConvTranspose2d) outHwc = [next.inHeight, next.inWidth, next.inChannels];
      else if (next === undefined && prefix === 'decoder') outHwc = imageHwc;
      if (inHwc !== null && outHwc !== null) throw new Error(`${layer.name}: a dense layer that both reads and writes an image map is not exported.`);
      const inPerm = inHwc === null ? null : chwToHwc(inHwc, layer.inputs);
      const outPerm = outHwc === null ? null : chwToHwc(outHwc, layer.outputs);
      mapped.push({
        torch: `${at}.weight`, vaekit: kernel.name,
        layout: inHwc !== null ? 'linear_chw_in' : outHwc !== null ? 'linear_chw_out' : 'linear', hwc: inHwc ?? outHwc,
        tensor: { shape: [layer.outputs, layer.inputs], data: linearWeight(kernel.value, layer.inputs, layer.outputs, inPerm, outPerm) },
      });
      mapped.push({
        torch: `${at}.bias`, vaekit: bias.name, layout: outHwc === null ? 'same' : 'chw', hwc: outHwc,
        tensor: { shape: [layer.outputs], data: outPerm === null ? bias.value.slice() : permuteVector(bias.value, outPerm) },
      });
    } else if (layer instanceof Conv2d || layer instanceof ConvTranspose2d) {
      mapped.push({
        torch: `${at}.weight`, vaekit: kernel.name, layout: layer instanceof Conv2d ? 'conv2d' : 'conv_transpose2d', hwc: null,
        tensor: permute3201(kernel.value, kernel.shape),
      });
      mapped.push({ torch: `${at}.bias`, vaekit: bias.name, layout: 'same', hwc: null, tensor: { shape: [...bias.shape], data: bias.value.slice() } });
    } else {
      throw new Error(`${layer.name}: the PyTorch export has no module for a ${layer.kind} layer.`);
    }
    index += next === undefined ? 1 : 2;
  });
  return mapped;
}

/** Every parameter of the model under its PyTorch name, in PyTorch's layout, in state_dict order. */
function torchParameters(vae: Vae): Mapped[] {
  const mapped = [...stackParameters(vae, 'encoder', vae.encoder.layers), ...stackParameters(vae, 'decoder', vae.decoder.layers)];
  const image = imageSides(vae.config);
  for (const p of vae.params.list) {
    if (p.name === 'likelihood.logvar') {
      if (image === null) {
        mapped.push({ torch: p.name, vaekit: p.name, layout: 'same', hwc: null, tensor: { shape: [p.size], data: p.value.slice() } });
      } else {
        const hwc: [number, number, number] = [image.height, image.width, image.channels];
        mapped.push({
          torch: p.name, vaekit: p.name, layout: 'chw', hwc,
          tensor: { shape: [image.channels, image.height, image.width], data: permuteVector(p.value, chwToHwc(hwc, p.size)) },
        });
      }
    } else if (p.name.startsWith('prior.')) {
      mapped.push({ torch: p.name, vaekit: p.name, layout: 'same', hwc: null, tensor: { shape: [...p.shape], data: p.value.slice() } });
    }
  }
  if (mapped.length !== vae.params.list.length) {
    throw new Error(`The PyTorch export maps ${mapped.length} of the model's ${vae.params.list.length} parameters.`);
  }
  return mapped;
}

// ---- Python source ---------------------------------------------------------------------------

/** A JSON-like value as a Python literal (dicts, lists, str, int/float, True/False/None). */
export function pyLiteral(value: unknown, indent = ''): string {
  if (value === null || value === undefined) return 'None';
  if (typeof value === 'boolean') return value ? 'True' : 'False';
  if (typeof value === 'number') {
    if (Number.isNaN(value)) return "float('nan')";
    if (!Number.isFinite(value)) return value > 0 ? "float('inf')" : "-float('inf')";
    return String(value);
  }
  if (typeof value === 'string') return JSON.stringify(value);
  const inner = `${indent}    `;
  if (Array.isArray(value)) {
    const items = value.map((v) => pyLiteral(v, inner));
    const flat = `[${items.join(', ')}]`;
    if (flat.length + indent.length <= 96 && !flat.includes('\n')) return flat;
    if (value.every((v) => typeof v === 'number')) {
      // Long lists of numbers (a table's standardization): wrapped, several to a line.
      const lines: string[] = [];
      let line = '';
      for (const item of items) {
        if (line !== '' && inner.length + line.length + item.length + 2 > 100) {
          lines.push(`${inner}${line}`);
          line = '';
        }
        line += `${item}, `;
      }
      if (line !== '') lines.push(`${inner}${line.trimEnd()}`);
      return `[\n${lines.join('\n')}\n${indent}]`;
    }
    return `[\n${items.map((item) => `${inner}${item},`).join('\n')}\n${indent}]`;
  }
  if (typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined);
    if (entries.length === 0) return '{}';
    return `{\n${entries.map(([k, v]) => `${inner}${JSON.stringify(k)}: ${pyLiteral(v, inner)},`).join('\n')}\n${indent}}`;
  }
  return 'None';
}

/** The objective's settings from the bundle's training record: beta (default 1) and free bits (default 0). */
function objectiveOf(training: Record<string, unknown> | undefined): { beta: number; freeBits: number } {
  const number = (key: string, fallback: number): number => {
    const v = training?.[key];
    return typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : fallback;
  };
  return { beta: number('beta', 1), freeBits: number('freeBits', 0) };
}

/** The module docstring's description of what goes in and comes out, for this model. */
function ioDescription(config: VaeConfig): string {
  const image = imageSides(config);
  const lines: string[] = [];
  if (image === null) {
    lines.push(
      `Input x: features, float32 [N, ${inputSize(config)}], standardized with the training split's mean and`,
      'standard deviation (DATA["standardization"]; standardize() and unstandardize() below apply and undo',
      'it). The decoder gives features in the same standardized units (its logits: no output activation).',
    );
  } else {
    const { height: h, width: w, channels: c } = image;
    lines.push(
      `Input x: images, float32 [N, C, H, W] = [N, ${c}, ${h}, ${w}], values in [0, 1]. This is PyTorch's channels-first`,
      'layout; vaekit itself stores images channels-last, [N, H, W, C] (convert with x.permute(0, 3, 1, 2)).',
      `The decoder gives images [N, ${c}, ${h}, ${w}]: sigmoid of its logits (decode_logits gives the logits).`,
    );
  }
  lines.push(`Latent z: float32 [N, ${config.latent}]. The encoder gives the posterior's (mean, logvar), each [N, ${config.latent}].`);
  if (config.classes > 0) {
    lines.push(
      `This is a conditional model of ${config.classes} classes: every call takes label, the class index of each`,
      'example as an int64 tensor [N] (DATA["classNames"][i] names class i); inside, it becomes a one-hot',
      'vector appended to the encoder input (as constant planes after the image channels for a conv',
      'encoder) and to z.',
    );
  }
  return lines.join('\n');
}

/** The VAEKIT_NAMES dict literal: PyTorch name -> (vaekit name, layout change, (h, w, c) or None). */
function namesLiteral(mapped: readonly Mapped[]): string {
  const lines = mapped.map((m) => {
    const hwc = m.hwc === null ? 'None' : `(${m.hwc.join(', ')})`;
    return `    ${JSON.stringify(m.torch)}: (${JSON.stringify(m.vaekit)}, ${JSON.stringify(m.layout)}, ${hwc}),`;
  });
  return `{\n${lines.join('\n')}\n}`;
}

/**
 * model.py: src/export/pytorch/model.py (embedded by scripts/embed-python.ts) with its marked
 * names, __VAEKIT_CONFIG__ and the like, replaced by this model's values.
 */
function modelPy(vae: Vae, mapped: readonly Mapped[], data: DataInfo | undefined, training: Record<string, unknown> | undefined): string {
  const c = vae.config;
  const objective = objectiveOf(training);
  return fillTemplate(MODEL_PY, {
    IO_DESCRIPTION: ioDescription(c),
    CONFIG: pyLiteral(c),
    DATA: pyLiteral(data ?? null),
    TRAINING: pyLiteral(training ?? {}),
    BETA: pyLiteral(objective.beta),
    FREE_BITS: pyLiteral(objective.freeBits),
    NAMES: namesLiteral(mapped),
    WEIGHTS_FILE: JSON.stringify(PYTORCH_WEIGHTS_FILE),
  });
}

/**
 * The template with each __VAEKIT_<KEY>__ replaced by values[KEY], in one pass (so a value that
 * itself holds such a name stays as it is). Throws unless the template names every key exactly once
 * and no other: a template and its filler that disagree fail on the first export, not in Python.
 */
export function fillTemplate(template: string, values: Readonly<Record<string, string>>): string {
  const filled = new Set<string>();
  const text = template.replace(/__VAEKIT_([A-Z]+(?:_[A-Z]+)*)__/g, (marker, key: string) => {
    const value = values[key];
    if (value === undefined || filled.has(key)) throw new Error(`The PyTorch export's template has ${filled.has(key) ? 'a second' : 'an unknown'} ${marker}.`);
    filled.add(key);
    return value;
  });
  const unused = Object.keys(values).filter((key) => !filled.has(key));
  if (unused.length > 0) throw new Error(`The PyTorch export's template has no ${unused.map((key) => `__VAEKIT_${key}__`).join(', ')}.`);
  return text;
}

/**
 * The PyTorch export of a model: model.py (torch.nn modules built from its config, with loading,
 * saving and the training objective), model.safetensors (its weights under PyTorch's names and
 * layouts) and train.py (a DistributedDataParallel trainer for torchrun over data that
 * `vaekit export-data` wrote). `training` (the bundle's training record) gives the objective's beta
 * and free bits, and train.py's schedule.
 */
export function pytorchFiles(vae: Vae, data?: DataInfo, training?: Record<string, unknown>): ExportFile[] {
  const mapped = torchParameters(vae);
  const tensors: Record<string, NamedTensor> = {};
  for (const m of mapped) tensors[m.torch] = m.tensor;
  const weights = encodeSafetensors(tensors, { format: 'pt', source: 'vaekit-export', preset: vae.config.preset });
  return [
    { name: PYTORCH_MODULE_FILE, bytes: new TextEncoder().encode(modelPy(vae, mapped, data, training)) },
    { name: PYTORCH_WEIGHTS_FILE, bytes: weights },
    { name: PYTORCH_TRAINER_FILE, bytes: new TextEncoder().encode(TRAIN_PY) },
  ];
}
