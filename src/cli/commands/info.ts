import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import type { Command } from 'commander';
import type { BackendInfo } from '../../engine/backend.js';
import { getBackend } from '../../engine/index.js';
import { probeBf16 } from '../../engine/precision.js';
import { loadBundle } from '../../run/bundle.js';
import { parseLoss } from '../../vae/objective.js';
import { describeVocabulary, textModelAt } from '../../pipelines/text-model.js';
import { say } from '../options.js';

/** A saved model's layers (and a text model's vocabulary settings), after the backend's lines. */
function describeModel(dir: string): void {
  const text = textModelAt(dir);
  say('');
  say(`model: ${dir}`);
  if (text !== null) {
    say(text.vae.summary());
    for (const line of describeVocabulary(text)) say(line);
    return;
  }
  const bundle = loadBundle(dir);
  const loss = bundle.training.loss;
  say(bundle.vae.summary(typeof loss === 'string' ? { loss: parseLoss(loss) } : {}));
}

const FP32_KERNELS: Readonly<Record<BackendInfo['blas'], string>> = {
  onednn: 'oneDNN matmul (fp32; VAEKIT_DNNL=off gives OpenBLAS or the bundled kernel)',
  openblas: 'OpenBLAS cblas_sgemm',
  portable: 'bundled portable kernel',
  typescript: 'TypeScript',
};

/** The CPU's vector and matrix extensions that vaekit's kernels use, from /proc/cpuinfo (Linux), or null elsewhere. */
function cpuFeatures(): string[] | null {
  let text: string;
  try {
    text = readFileSync('/proc/cpuinfo', 'utf8');
  } catch {
    return null;
  }
  const flags = new Set((/^flags\s*:(.*)$/m.exec(text)?.[1] ?? '').trim().split(/\s+/));
  return ['avx2', 'fma', 'avx512f', 'avx512_bf16', 'amx_tile', 'amx_bf16'].filter((f) => flags.has(f));
}

export function register(program: Command): void {
  program.command('info')
    .description('print the compute backend in use, its matrix-product kernels (OpenBLAS, oneDNN bf16), the CPU features they use, and the thread count; with --model, a saved model\'s layers (and a text model\'s vocabulary settings)')
    .option('--model <dir>', 'also describe this saved model folder')
    .action((flags: { model?: string }) => {
      const backend = getBackend();
      const info = backend.info();
      say(`backend: ${info.backend}`);
      say(`cpu: ${cpus()[0]?.model ?? 'unknown'}`);
      const features = cpuFeatures();
      if (features !== null) say(`cpu features: ${features.length > 0 ? features.join(' ') : 'none of avx2, fma, avx512f, avx512_bf16, amx_tile, amx_bf16'}`);
      say(`matrix products (fp32): ${FP32_KERNELS[info.blas]}`);
      const bf16 = probeBf16(backend);
      if (bf16.oneDnn !== undefined) say(`onednn: ${bf16.oneDnn} (dispatching to ${bf16.isa ?? 'unknown'})`);
      else say('onednn: no');
      say(bf16.available
        ? `bf16 mixed precision (--precision bf16): yes, oneDNN kernel ${bf16.kernel ?? 'unknown'}`
        : `bf16 mixed precision (--precision bf16): no, ${bf16.reason ?? 'no bf16 kernels'}`);
      say(`threads: ${info.threads}`);
      if (info.note !== undefined) say(`note: ${info.note}`);
      say('(set VAEKIT_BACKEND=js to force the js backend, VAEKIT_DNNL=off to run without oneDNN)');
      if (flags.model !== undefined) describeModel(flags.model);
    });
}
