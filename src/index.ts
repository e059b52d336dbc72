/**
 * vaekit's library API for Node (src/browser.ts is the core for a browser). A session reads like
 * the Keras notebook:
 *
 *   const vae = new Vae(presetConfig('seed'));
 *   console.log(vae.summary());
 *   const history = await fit(vae, loadMnist('train'), { epochs: 10, noise: parseNoise('gaussian:0.2'), callbacks: [epochLogger(console.log)] });
 *   const denoised = vae.denoise(noisyImages);
 *
 * Your own data: loadData('photos/', 'train'), loadImageFolder, loadNpy, loadCsv or arrayDataset,
 * and planRun + trainRun to do what `vaekit train` does, from a RunSpec.
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
export { binarize } from './data/transforms/binarize.js';
export { Conv1d } from './nn/conv1d.js';
export { Conv2d } from './nn/conv2d.js';
export { ConvTranspose1d } from './nn/conv-transpose1d.js';
export { ConvTranspose2d } from './nn/conv-transpose2d.js';
export { Adam } from './nn/adam.js';
export { Dense } from './nn/dense.js';
export { Sequential, denseLayers } from './nn/sequential.js';
export type { Layer } from './nn/layer.js';
export { ParameterSet } from './nn/parameters.js';
export { arrayDataset, subset, takeFirst, classCount, isImageShape, describeShape, type Dataset, type DatasetParts, type SeriesInfo } from './data/dataset.js';
export { loadData, isMnistSpec, parseImageSize, type DataOptions, type DataRole } from './data/load.js';
export { splitValidation } from './data/split.js';
export { loadMnist, type MnistSplit } from './data/sources/mnist.js';
export { loadIdx } from './data/sources/idx.js';
export { loadNpy } from './data/sources/npy.js';
export { loadCsv } from './data/sources/csv.js';
export { loadImageFolder } from './data/sources/image-folder.js';
export { readSeries, readSeriesFile, resampleSeries, regularity, describeSeries, type Series, type SeriesReadOptions, type Regularity, type TimeKind } from './data/sources/series.js';
export { seriesWindows, trainingEnds, fitSeriesStandardization, windowDataset, pointScores, type WindowOptions, type WindowCut, type SeriesWindows } from './data/transforms/windows.js';
export { readIdx, parseIdx, encodeIdx, type IdxArray } from './io/idx.js';
export { readNpy, parseNpy, encodeNpy, type NpyArray } from './io/npy.js';
export { parseNoise, formatNoise, applyNoise, type NoiseSpec } from './data/transforms/noise.js';
export { fitStandardization, standardize, unstandardize, type Standardization } from './data/transforms/standardize.js';
export { Batcher, shuffledOrder, type Batch, type BatchTransforms } from './data/batches.js';
export { fit, resolveFitOptions, formatEpoch, type FitOptions, type FitOptionsInput, type EpochRecord, type History, type Callback, type TrainContext } from './train/fit.js';
export { metricsLog, epochLogger } from './train/callbacks.js';
export type { Checkpoint, CheckpointOptions, TrainState } from './train/checkpoint.js';
export { saveCheckpoint, readCheckpoint, latestCheckpoint, checkpointTo, checkpointFiles } from './run/checkpoints.js';
export { defaultRunSpec, validateRunSpec, SpecFieldError, type RunSpec, type RunSpecInput } from './run/spec.js';
export { planRun, imagePlan, isTextPlan, loadRunData, trainAndTestSets, dataFingerprint, type RunPlan } from './run/plan.js';
export { trainRun, type TrainRunOptions, type TrainRunResult } from './run/train-run.js';
export { RunFolder, readRunRecord, type RunRecord } from './run/folder.js';
export { RUN_FILES } from './run/names.js';
export { modelConfigForData, prepareForModel, dataInfoFor, type ModelChoices } from './run/data.js';
export {
  readSeriesRun, seriesForModel, trainingRunOf, trainingRun, SERIES_VALIDATION_FRACTION,
  type SeriesRunData, type SeriesForModelOptions, type TrainingRun, type TrainingRunOptions, type TrainingRunNeed,
} from './run/series.js';
export type { SeriesDataInfo } from './run/bundle-format.js';
export { splitSeriesValidation } from './data/split.js';
export { denoiseDataset, type Denoised } from './pipelines/denoise.js';
export { scoreAnomalies, oneClassTasks, type AnomalyScores, type OneClassResult } from './pipelines/anomaly.js';
export {
  BASELINES, findBaseline, fitPca, PcaBaseline, fitIsolationForest, IsolationForest, averagePathLength, rollingZScores,
  type Baseline, type BaselineName, type BaselineScorer, type PcaOptions, type IsolationForestOptions, type RollingZScoreOptions, type FloatRows,
} from './anomaly/baselines/index.js';
export { seriesBaselineScores, type SeriesBaselineScores } from './anomaly/baselines/series.js';
export {
  seriesAnomalies, seriesAnomalyFigure, flaggedIntervals, heldOutPointScores,
  type ScoredSeries, type HeldOutSeries, type SeriesAnomalyOptions, type SeriesAnomalyReport, type SeriesMethod, type FlaggedInterval,
} from './pipelines/series-anomaly.js';
export { encodeDataset, type Codes, type EncodeOptions } from './latent/encode.js';
export { SILENT_TASK, type TaskProgress } from './progress.js';
export { evaluateDenoising, evaluateObjective, validator, type TestMetrics } from './eval/evaluate.js';
export { imagePsnr } from './eval/psnr.js';
export { saveModel, loadModel, loadBundle, type Bundle, type DataInfo } from './run/bundle.js';
export { toBytes, writeRows, type Rows } from './io/rows.js';
export { encodeSafetensors, decodeSafetensors } from './io/safetensors.js';
export { writeFileAtomic } from './io/atomic-write.js';
export { imageGridPng } from './viz/image-grid.js';
export { noisyExamplesPng, denoisedExamplesPng, samplesPng, notebookFigures } from './viz/figures.js';
export { gridFigureSvg, gridFigurePng, gridFigureLayout, type GridFigure, type GridLayout } from './viz/labelled-grid.js';
export { chartFromSpec, latentMapChart, trainingCurvesChart, scoreHistogramChart, type Chart, type LatentMapInput, type ScoreHistogramInput } from './viz/charts.js';
export { svgToPng } from './viz/render.js';
export { writeReport, gatherReport, renderReport, type ReportOptions, type ReportParts } from './report/report.js';
export { interpolate, interpolationPath, interpolationTimes, lerp, slerp, angleBetween, INTERPOLATION_METHODS, type Interpolation, type InterpolationMethod } from './latent/interpolate.js';
export { traverse, traversalOffsets, rankLatentDimensions, rankDimensions, averageKlPerDimension, priorMarginals, priorComponents, INACTIVE_KL_NATS, type Traversal, type KlRanking, type RankedDimension } from './latent/traverse.js';
export { projectLatents, manifoldGrid, normalQuantile, normalCdf, mixtureQuantile, PROJECTION_METHODS, type Projection, type ProjectionMethod, type Manifold } from './latent/map.js';
export { exportFiles, EXPORT_FORMATS, type ExportFormat, type ExportFile } from './export/index.js';
export { writeExport, type WriteExportOptions } from './export/write.js';
export { startStudio, type Studio, type StudioOptions } from './studio/server.js';
