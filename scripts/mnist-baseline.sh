#!/usr/bin/env bash
# The MNIST baseline: seven training runs (issue 8's: the demo and six that cover every preset,
# likelihood, prior and objective) and every model command on their models, with each output
# file's sha256 written to OUT/hashes.txt. Run it before and after a change that must not change
# what vaekit computes, on the same machine and build, and compare:
#
#   scripts/mnist-baseline.sh /tmp/before   # on the old code
#   scripts/mnist-baseline.sh /tmp/after    # on the new code
#   diff /tmp/before/hashes.txt /tmp/after/hashes.txt
#
# Wall-clock files (timing.jsonl) and the run spec (run.json, which names the vaekit version and
# the folder) are left out of the hashes; everything else a command writes is in them. About 90 s
# on 2 cores (AMD EPYC, 2026-12-05).
set -euo pipefail
OUT=${1:?usage: scripts/mnist-baseline.sh OUT_DIR}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
rm -rf "$OUT"
mkdir -p "$OUT"
cd "$OUT"
v() { node "$ROOT/bin/vaekit.js" "$@" >>"$OUT/log.txt" 2>&1; }

# The seven runs.
v demo --out demo
v train --limit 3000 --epochs 3 --out seed
v train --preset conv --prior mog:5 --likelihood gaussian --limit 2000 --epochs 2 --out conv
v train --preset mlp --binarize --noise none --loss iwae --samples 3 --limit 3000 --epochs 2 --out iwae
v train --conditional --free-bits 0.5 --kl-warmup linear:2 --limit 3000 --epochs 3 --out cvae
v train --loss notebook-mse --likelihood continuous-bernoulli --noise-redraw once --limit 3000 --epochs 2 --out mse
v train --likelihood gaussian --learned-variance --loss iwae --samples 2 --prior mog:3 --limit 3000 --epochs 2 --out lv

# Every model command, on the demo model (and the conditional one for labels).
v eval --model seed --limit 500 --out seed-eval
v denoise --model demo --limit 50 --out denoised.idx
v figures --model seed
v sample --model demo --count 16 --out samples.png
v sample --model cvae --label 7 --count 8 --out sevens.png
v encode --model demo --out codes.csv
v encode --model demo --out codes.npy
v interpolate --model demo --from 3 --to 12 --out interpolation.png
v traverse --model demo --image 0 --out traversal.png
v map --model seed --method pca --limit 500 --out latent-map.png
v anomaly --model demo --out anomaly-scores
v anomaly --normal-class 3 --limit 2000 --epochs 1 --hidden 64 --latent 8 --out one-class
v report --model seed
v export --model demo --format onnx --out demo-onnx
v export --model demo --format tfjs --out demo-tfjs
v export --model demo --format pytorch --out demo-pytorch

find . -type f ! -name timing.jsonl ! -name run.json ! -name log.txt ! -name hashes.txt ! -name '.vaekit.lock' -print0 \
  | sort -z | xargs -0 sha256sum >hashes.txt
echo "wrote $OUT/hashes.txt ($(wc -l <hashes.txt) files)"
