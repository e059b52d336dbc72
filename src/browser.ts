/**
 * vaekit's library core for a browser (or any JavaScript runtime without Node): the js backend,
 * the layers, the VAE, the data in memory, training and evaluation, and model bundles from bytes.
 * Nothing here imports Node's modules or the native addon; src/index.ts is the Node entry, which
 * adds files, the native backend, data sources and figures.
 *
 *   const { vae } = decodeBundle(configText, weightsBytes, { config: RUN_FILES.config, weights: RUN_FILES.weights });
 *   const images = vae.decode(new Tensor(z, [1, vae.latent]));
 */
export { getBackend, selectBackend, setBackend, JsBackend, Random, Tensor } from './engine/index.js';
export type { Activation, Backend, BackendInfo } from './engine/index.js';
export { VaekitError } from './errors.js';
export { RUN_FILES } from './run/names.js';
export { Vae, type VaeOptions } from './vae/model.js';
export { presetConfig, validateConfig, PRESETS, type VaeConfig, type VaeOverrides, type Likelihood } from './vae/config.js';
export { resolveObjective, type Objective, type LossParts } from './vae/objective.js';
export { arrayDataset, subset, takeFirst, type Dataset } from './data/dataset.js';
export { Batcher, shuffledOrder, type Batch } from './data/batches.js';
export { parseNoise, formatNoise, applyNoise, type NoiseSpec } from './data/transforms/noise.js';
export { standardize, unstandardize, type Standardization } from './data/transforms/standardize.js';
export { fit, type FitOptionsInput, type Callback, type History, type EpochRecord } from './train/fit.js';
export { evaluateDenoising, evaluateObjective, validator } from './eval/evaluate.js';
export { encodeBundle, decodeBundle, type Bundle, type DataInfo } from './run/bundle-format.js';
export { encodeSafetensors, decodeSafetensors } from './io/safetensors.js';
export { interpolate, interpolationPath, lerp, slerp, type Interpolation, type InterpolationMethod } from './latent/interpolate.js';
export { traverse, traversalOffsets, rankLatentDimensions, rankDimensions, averageKlPerDimension, priorMarginals, INACTIVE_KL_NATS, type Traversal, type KlRanking, type RankedDimension } from './latent/traverse.js';
export { projectLatents, manifoldGrid, normalQuantile, normalCdf, mixtureQuantile, type Projection, type ProjectionMethod, type Manifold } from './latent/map.js';
export { exportFiles, EXPORT_FORMATS, type ExportFormat, type ExportFile } from './export/index.js';
