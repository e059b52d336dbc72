"""PyTorch's training epoch of a model vaekit exported (model.py), as bench/device/run.sh compares it
with vaekit's: MNIST's 60,000 training images (an IDX file), batch 128, the input noise vaekit's
epoch adds (gaussian 0.2), the model's negative ELBO, Adam at 1e-3; bf16 through torch.autocast.
Timed over STEPS steps after 5 and scaled to the epoch's 469 steps (a CPU epoch of the conv preset
takes a minute). Prints one JSON line.

    python3 torch_epoch.py MODEL_DIR TRAIN_IMAGES fp32|bf16 THREADS cpu|cuda [STEPS=100]
"""
import importlib.util
import json
import os
import sys
import time

import numpy as np
import torch

EPOCH_STEPS = 469
BATCH = 128
WARMUP = 5


def main():
    folder, images_path, precision, threads, device = sys.argv[1:6]
    steps = int(sys.argv[6]) if len(sys.argv) > 6 else 100
    torch.set_num_threads(int(threads))
    torch.manual_seed(0)
    spec = importlib.util.spec_from_file_location("vaekit_model", os.path.join(folder, "model.py"))
    model = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(model)
    vae = model.VAE().to(device)
    optimizer = torch.optim.Adam(vae.parameters(), lr=1e-3)
    raw = np.fromfile(images_path, dtype=np.uint8, offset=16).reshape(-1, 1, 28, 28)
    images = torch.from_numpy(raw.astype(np.float32) / 255.0).to(device)
    order = torch.randperm(images.shape[0], device=device)
    autocast = torch.autocast(device_type=device, dtype=torch.bfloat16, enabled=precision == "bf16")

    def step(i):
        clean = images[order[(i * BATCH) % (images.shape[0] - BATCH):][:BATCH]]
        noisy = clean + 0.2 * torch.randn_like(clean)
        optimizer.zero_grad(set_to_none=True)
        with autocast:
            loss = vae.negative_elbo(noisy, clean)
        loss.backward()
        optimizer.step()
        return loss

    for i in range(WARMUP):
        step(i)
    if device == "cuda":
        torch.cuda.synchronize()
    started = time.perf_counter()
    for i in range(steps):
        loss = step(WARMUP + i)
    loss.item()
    if device == "cuda":
        torch.cuda.synchronize()
    seconds = time.perf_counter() - started
    print(json.dumps({
        "engine": "pytorch", "preset": os.path.basename(os.path.normpath(folder)), "precision": precision,
        "threads": int(threads), "device": device, "seconds_per_epoch": seconds / steps * EPOCH_STEPS, "steps_timed": steps,
    }), flush=True)


if __name__ == "__main__":
    main()
