/**
 * The studio's heavy work, each a function of the run folder's files alone, so that it runs in a
 * job worker (jobs.ts) and never on the thread that answers requests: the latent map (PCA or UMAP
 * of a run's test codes) and a run's HTML report. The routes check the request; these compute.
 */
import { readFileSync } from 'node:fs';
import type { Dataset } from '../data/dataset.js';
import { takeFirst } from '../data/dataset.js';
import { Tensor } from '../engine/tensor.js';
import { encodeDataset } from '../latent/encode.js';
import { projectLatents, type ProjectionMethod } from '../latent/map.js';
import { writeReport } from '../report/report.js';
import type { LatentMap } from './messages.js';
import type { Models } from './models.js';

export interface LatentMapJob { kind: 'latent-map'; id: string; method: ProjectionMethod; limit: number }
export interface ReportJob { kind: 'report'; id: string }
export type Job = LatentMapJob | ReportJob;
export type JobResult<J extends Job> = J extends LatentMapJob ? LatentMap : string;

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

export function runJob<J extends Job>(models: Models, job: J): Promise<JobResult<J>> {
  switch (job.kind) {
    case 'latent-map': return latentMapOf(models, job) as Promise<JobResult<J>>;
    case 'report': return reportOf(models, job) as Promise<JobResult<J>>;
  }
}
