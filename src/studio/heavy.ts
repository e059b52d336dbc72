/**
 * The studio's heavy work, each a function of the run folder's files alone, so that it runs in a
 * job worker (jobs.ts) and never on the thread that answers requests: the latent map (PCA or UMAP
 * of a run's test codes), a run's HTML report, the anomaly scores of an uploaded file, a run's
 * export, and what a data spec holds. The routes check the request; these compute.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { extname, join } from 'node:path';
import { zipSync } from 'fflate';
import { arrayDataset, isImageShape, takeFirst, valuesInMemory, type Dataset } from '../data/dataset.js';
import { loadData } from '../data/load.js';
import { Tensor } from '../engine/tensor.js';
import { exportFiles, type ExportFormat } from '../export/index.js';
import { writeRows } from '../io/rows.js';
import { encodeDataset } from '../latent/encode.js';
import { projectLatents, type ProjectionMethod } from '../latent/map.js';
import { scoreAnomalies } from '../pipelines/anomaly.js';
import { writeReport } from '../report/report.js';
import { prepareForModel } from '../run/data.js';
import { lockRunFolder } from '../run/folder.js';
import { RUN_FILES } from '../run/names.js';
import { scoreHistogramChart } from '../viz/charts.js';
import type { AnomalyResult, DataDescription, DescribeRequest, LatentMap } from './messages.js';
import { asModelShape, type Models } from './models.js';
import { inUploadFolder, uploadName, type UploadedFile } from './uploads.js';

export interface LatentMapJob { kind: 'latent-map'; id: string; method: ProjectionMethod; limit: number }
export interface ReportJob { kind: 'report'; id: string }
export interface AnomalyJob { kind: 'anomaly'; id: string; file: UploadedFile; labels?: UploadedFile; labelColumn?: string; normalClass?: string }
export interface ExportJob { kind: 'export'; id: string; format: ExportFormat }
/** What a data spec holds, its paths already confined by the route. */
export interface DescribeJob { kind: 'describe'; request: DescribeRequest }
export type Job = LatentMapJob | ReportJob | AnomalyJob | ExportJob | DescribeJob;
export type JobResult<J extends Job> =
  J extends LatentMapJob ? LatentMap : J extends AnomalyJob ? AnomalyResult : J extends ExportJob ? Uint8Array : J extends DescribeJob ? DataDescription : string;

const ANOMALY_SAMPLES = 10;
const TOP_ANOMALIES = 8;

/** The test set's posterior means in two dimensions, with the codes of the points shown. */
export async function latentMapOf(models: Models, job: LatentMapJob): Promise<LatentMap> {
  const { set, bundle } = await models.testSet(job.id);
  const vae = bundle.vae;
  const first = takeFirst(set, job.limit);
  const codes = encodeDataset(vae, first, { binarize: bundle.training['binarize'] === true });
  const L = vae.latent;
  const p = projectLatents(new Tensor(codes.mean, [codes.count, L]), job.method, 0);
  const z = Array.from(p.indices, (i) => Array.from(codes.mean.subarray(i * L, (i + 1) * L)));
  return {
    method: p.method, x: Array.from(p.x), y: Array.from(p.y), z,
    labels: first.labels === null ? null : Array.from(p.indices, (i) => first.labels![i]!),
    labelNames: first.labelNames === null ? [] : [...first.labelNames],
    xTitle: p.xTitle, yTitle: p.yTitle,
    ...(p.pca !== null ? { pca: p.pca } : {}),
  };
}

/** A run's report, written into its folder (report.html), as HTML. */
export async function reportOf(models: Models, job: ReportJob): Promise<string> {
  const { bundle, dir } = models.bundle(job.id);
  let data: Dataset | undefined;
  try {
    data = (await models.testSet(job.id)).set;
  } catch {
    data = undefined; // The page is drawn without the figures that need data.
  }
  const path = await writeReport(dir, { bundle, ...(data !== undefined ? { data } : {}) });
  return readFileSync(path, 'utf8');
}

/** The uploaded data, read by the library's loadData (uploads.ts: its messages name the user's files). */
async function loadUpload({ file, labels, labelColumn }: AnomalyJob): Promise<Dataset> {
  return inUploadFolder(async (tmp) => {
    const path = join(tmp, uploadName(file.name, extname(file.name).toLowerCase()));
    writeFileSync(path, file.bytes);
    let labelsPath: string | undefined;
    if (labels !== undefined) {
      labelsPath = join(tmp, `labels-${uploadName(labels.name, '.npy')}`);
      writeFileSync(labelsPath, labels.bytes);
    }
    // In memory whatever its size (an upload is bounded): its file is removed when this returns.
    return loadData(path, 'test', {
      ...(labelsPath !== undefined ? { labels: labelsPath } : {}),
      ...(labelColumn !== undefined ? { labelColumn } : {}),
      memoryBudget: Infinity,
    });
  });
}

/** The anomaly scores of an uploaded file under a run's model, its histogram and its top anomalies; the scores kept in the run folder. */
export async function anomalyOf(models: Models, job: AnomalyJob): Promise<AnomalyResult> {
  const { bundle, dir } = models.bundle(job.id);
  const { file, normalClass } = job;
  const loaded = await loadUpload(job);
  const named = arrayDataset({ values: valuesInMemory(loaded, 'An upload'), shape: loaded.shape, labels: loaded.labels, labelNames: loaded.labelNames, featureNames: loaded.featureNames, source: file.name });
  const vae = bundle.vae;
  const set = prepareForModel(bundle.data, asModelShape(named, bundle.data), vae.classes > 0);
  const result = scoreAnomalies(vae, set, { samples: ANOMALY_SAMPLES, seed: 0, ...(normalClass !== undefined ? { normalClass } : {}) });
  const normalName = result.normalClass === null ? null : set.labelNames?.[result.normalClass] ?? String(result.normalClass);
  const order = Array.from({ length: set.count }, (_, i) => i).sort((a, b) => result.scores[b]! - result.scores[a]! || a - b);
  const image = isImageShape(vae.config.inputShape);
  const one = new Float32Array(set.size);
  const top = order.slice(0, TOP_ANOMALIES).map((index) => {
    if (image) set.gather(Uint32Array.of(index), 0, 1, one);
    return { index, score: result.scores[index]!, image: image ? Array.from(one) : null };
  });
  const chart = await scoreHistogramChart({
    scores: result.scores,
    isAnomaly: set.labels === null || result.normalClass === null ? null : Array.from(set.labels, (y) => y !== result.normalClass),
    title: `Anomaly scores of ${set.count} examples of ${file.name}`,
    xTitle: 'anomaly score: negative ELBO (nats per example)',
    ...(normalName !== null ? { subtitle: `class ${normalName} normal, the rest anomalous${result.auroc !== null ? ` · AUROC ${(100 * result.auroc).toFixed(2)}%` : ''}` } : {}),
  });
  // Written under the run folder's lock, as every writer of a run folder does (a vaekit command at work there refuses it).
  const release = lockRunFolder(dir);
  try {
    writeRows(join(dir, RUN_FILES.studioScores), {
      values: Float32Array.from(result.scores), count: set.count, shape: [1], columns: ['score'], labels: set.labels, labelNames: set.labelNames,
    }, ['csv']);
  } finally {
    release();
  }
  return {
    count: set.count, scores: Array.from(result.scores),
    labels: set.labels === null ? null : Array.from(set.labels),
    labelNames: set.labelNames === null ? null : [...set.labelNames],
    normalClass: normalName, auroc: result.auroc, top, histogram: chart.spec,
  };
}

/** A run's model in an export format, its files in one zip. */
export function exportOf(models: Models, job: ExportJob): Uint8Array {
  const { bundle } = models.bundle(job.id);
  const files = exportFiles(bundle.vae, job.format, bundle.data, bundle.training);
  return zipSync(Object.fromEntries(files.map((f) => [f.name, f.bytes])));
}

/** What a data spec holds: its source, size, shape and class names (the data is read whole). */
export async function describeOf(job: DescribeJob): Promise<DataDescription> {
  const { data, ...options } = job.request;
  const set = await loadData(data, 'train', options);
  return { source: set.source, count: set.count, shape: [...set.shape], classNames: set.labelNames === null ? null : [...set.labelNames] };
}

export async function runJob<J extends Job>(models: Models, job: J): Promise<JobResult<J>> {
  switch (job.kind) {
    case 'export': return exportOf(models, job) as JobResult<J>;
    case 'describe': return await describeOf(job) as JobResult<J>;
    case 'latent-map': return latentMapOf(models, job) as Promise<JobResult<J>>;
    case 'report': return reportOf(models, job) as Promise<JobResult<J>>;
    case 'anomaly': return anomalyOf(models, job) as Promise<JobResult<J>>;
  }
}
