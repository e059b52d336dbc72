/**
 * vaekit's library API. A session reads like the Keras notebook:
 *
 *   const vae = new Vae(presetConfig('seed'));
 *   console.log(vae.summary());
 *   fit(vae, loadMnist('train'), { epochs: 10, noise: parseNoise('gaussian:0.2'), validation: loadMnist('test') });
 *   const denoised = vae.denoise(noisyImages);
 */
export { getBackend, selectBackend, setBackend, JsBackend, Random, Tensor } from './engine/index.js';
export type { Activation, Backend, BackendInfo } from './engine/index.js';
export { VaekitError } from './errors.js';
export { Vae, type VaeOptions } from './vae/model.js';
export { presetConfig, validateConfig, PRESETS, SEED_PRESET, MLP_PRESET, CONV_PRESET, type VaeConfig, type VaeOverrides, type Likelihood } from './vae/config.js';
export { parseLoss, resolveObjective, checkObjectiveFits, DEFAULT_OBJECTIVE, type Objective, type LossName, type LossParts } from './vae/objective.js';
export { PixelLikelihood } from './vae/likelihood.js';
export { Prior, parsePrior, formatPrior, type PriorKind } from './vae/prior.js';
export { parseKlSchedule, formatKlSchedule, klFactor, type KlSchedule } from './train/kl-schedule.js';
export { evaluateSuite, importanceSampledNll, latentMeans, reportMarkdown, type EvalReport, type EvalSuiteOptions } from './eval/suite.js';
export { anomalyScores, classSubset, oneClassAuroc } from './eval/anomaly.js';
export { auroc } from './eval/auroc.js';
export { knnAccuracy } from './eval/knn.js';
export { sampleQuality, nearestTrainingLabels, type SampleQuality } from './eval/sample-quality.js';
export { imageSsim } from './eval/ssim.js';
export { binarize } from './data/binarize.js';
export { Conv2d } from './nn/conv2d.js';
export { ConvTranspose2d } from './nn/conv-transpose2d.js';
export { Adam } from './nn/adam.js';
export { Dense } from './nn/dense.js';
export { Sequential, denseLayers } from './nn/sequential.js';
export type { Layer } from './nn/layer.js';
export { ParameterSet } from './nn/parameters.js';
export { loadMnist, loadImageIdx, takeFirst, type ImageSet } from './data/dataset.js';
export { readIdx, parseIdx, encodeIdx, type IdxArray } from './data/idx.js';
export { parseNoise, formatNoise, applyNoise, type NoiseSpec } from './data/noise.js';
export { gatherBatch, shuffledOrder, toBytes } from './data/batches.js';
export { fit, resolveFitOptions, type FitOptions, type FitOptionsInput, type EpochRecord } from './train/fit.js';
export { trainDenoiser, type TrainDenoiserOptions, type TrainDenoiserResult } from './train/train-denoiser.js';
export { TerminalProgress, TerminalTaskProgress, type ProgressReporter, type TaskProgress } from './train/progress.js';
export { evaluateDenoising, evaluateObjective, type TestMetrics } from './eval/evaluate.js';
export { imagePsnr } from './eval/psnr.js';
export { saveModel, loadModel } from './io/bundle.js';
export { encodeSafetensors, decodeSafetensors } from './io/safetensors.js';
export { writeFileAtomic } from './io/atomic-write.js';
export { imageGridPng } from './viz/image-grid.js';
export { noisyExamplesPng, denoisedExamplesPng, samplesPng } from './viz/figures.js';
