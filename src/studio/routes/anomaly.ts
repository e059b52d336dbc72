/** Anomaly scores of an uploaded CSV or NPY file under a run's model, and the scores as CSV. */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, extname, join, sep } from 'node:path';
import { Hono } from 'hono';
import { arrayDataset, isImageShape, type Dataset } from '../../data/dataset.js';
import { loadData } from '../../data/load.js';
import { VaekitError } from '../../errors.js';
import { writeRows } from '../../io/rows.js';
import { scoreAnomalies } from '../../pipelines/anomaly.js';
import { prepareForModel } from '../../run/data.js';
import { RUN_FILES } from '../../run/names.js';
import { scoreHistogramChart } from '../../viz/charts.js';
import type { ApiContext } from '../api.js';
import type { AnomalyResult, AnomalyUpload } from '../messages.js';
import { asModelShape } from '../models.js';
import { fileInFolder, HttpError } from '../security.js';
import { anomalyUpload } from './requests.js';

const ANOMALY_SAMPLES = 10;
const TOP_ANOMALIES = 8;

/** A file name for an upload: its own name's safe characters, ending in `ext`. */
function uploadName(name: string, ext: string): string {
  const base = basename(name).replace(/[^A-Za-z0-9._-]/g, '_').replace(/^\.+/, '').slice(0, 100);
  return base.toLowerCase().endsWith(ext) ? base : `${base || 'upload'}${ext}`;
}

/** The uploaded data, read by the library's loadData from a temporary folder that is removed at once; its messages name the user's files. */
async function loadUpload({ file, labels, labelColumn }: AnomalyUpload): Promise<Dataset> {
  const tmp = mkdtempSync(join(tmpdir(), 'vaekit-studio-'));
  try {
    // Named as uploaded (letters, digits, ".", "_" and "-" kept), so the library's messages name the user's files.
    const path = join(tmp, uploadName(file.name, extname(file.name).toLowerCase()));
    writeFileSync(path, new Uint8Array(await file.arrayBuffer()));
    let labelsPath: string | undefined;
    if (labels !== undefined) {
      labelsPath = join(tmp, `labels-${uploadName(labels.name, '.npy')}`);
      writeFileSync(labelsPath, new Uint8Array(await labels.arrayBuffer()));
    }
    return await loadData(path, 'test', {
      ...(labelsPath !== undefined ? { labels: labelsPath } : {}),
      ...(labelColumn !== undefined ? { labelColumn } : {}),
    });
  } catch (err) {
    if (err instanceof VaekitError) throw new HttpError(400, err.message.split(`${tmp}${sep}`).join(''));
    throw err;
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

export function anomalyRoutes(ctx: ApiContext): Hono {
  const { runs, models } = ctx;
  return new Hono()
    .post('/:id/anomaly', async (c) => {
      const { bundle, dir } = models.bundle(c.req.param('id'));
      const upload = await anomalyUpload(c);
      const { file, normalClass } = upload;
      const loaded = await loadUpload(upload);
      const named = arrayDataset({ values: loaded.values, shape: loaded.shape, labels: loaded.labels, labelNames: loaded.labelNames, featureNames: loaded.featureNames, source: file.name });
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
      writeRows(join(dir, RUN_FILES.studioScores), {
        values: Float32Array.from(result.scores), count: set.count, shape: [1], columns: ['score'], labels: set.labels, labelNames: set.labelNames,
      }, ['csv']);
      return c.json<AnomalyResult>({
        count: set.count, scores: Array.from(result.scores),
        labels: set.labels === null ? null : Array.from(set.labels),
        labelNames: set.labelNames === null ? null : [...set.labelNames],
        normalClass: normalName, auroc: result.auroc, top, histogram: chart.spec,
      });
    })
    .get('/:id/anomaly/scores.csv', (c) => {
      const dir = runs.runDir(c.req.param('id'));
      const path = fileInFolder(dir, RUN_FILES.studioScores);
      if (path === null) throw new HttpError(404, 'This run has scored no data yet: POST a file to its anomaly endpoint first.');
      const text = readFileSync(path, 'utf8');
      c.header('Content-Type', 'text/csv; charset=utf-8');
      c.header('Content-Disposition', `attachment; filename="${c.req.param('id')}-scores.csv"`);
      return c.body(text);
    });
}
