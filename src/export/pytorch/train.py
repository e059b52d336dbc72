"""Trains the model of model.py (beside this file) with PyTorch's DistributedDataParallel, as vaekit would.

Written by vaekit's PyTorch export beside model.py and model.safetensors (the starting weights). The
data is a folder that `vaekit export-data` wrote: float32 NPY shards in the model's input layout
(images channels-first [N, C, H, W], features standardized [N, D]), int64 labels where the data has
classes, and index.json. Run it under torchrun, one process per GPU or a few per machine:

    python3 -m torch.distributed.run --nproc_per_node 4 train.py --data DATA --out RUN
    python3 -m torch.distributed.run --nnodes 2 --node_rank 0 --master_addr HOST --master_port 29500 \\
        --nproc_per_node 8 train.py --data DATA --out RUN      # and --node_rank 1 on the other machine

The objective and the schedule are model.py's TRAINING record (what vaekit was asked to train):
the ELBO with beta, a KL warm-up (linear, logistic, cyclical) and free bits, or the importance-weighted
bound (iwae) with its samples; the likelihood and the prior (N(0, I) or the learned mixture) of
model.py; conditional models; the input noise (gaussian, clipped to [0, 1] for images,
salt-and-pepper, masking) redrawn every epoch and dynamic binarization; epochs, the global batch
size, Adam (epsilon 1e-7, as Keras and vaekit use) with its learning rate decayed exponentially to
learningRateFinal by the last epoch. --epochs, --batch-size, --lr and --lr-final change them.
What vaekit trains that this file does not (the notebook's squared error, early stopping, noise
drawn once, bf16, missing-point injection) is refused in one sentence.

Data parallelism: every epoch the training shards are shuffled (seeded) and dealt to the processes
in turn; each process shuffles the rows of its shards (seeded) and reads them one shard at a time.
A step takes an even share of each process's rows for the epoch, so its rows add up to the global
batch; the loss is the mean over the global batch (free bits use the global batch's KL per
dimension), so the gradient does not depend on the number of processes beyond rounding.

Outputs in --out: the vaekit model bundle (config.json, weights.safetensors: model.save_vaekit_bundle),
metrics.jsonl (one line per epoch, as vaekit's own runs write it: loss, recon, kl, beta, valLoss,
valRecon, valKl) and timing.jsonl; checkpoints (model, optimizer, step, every process's generators)
in --checkpoints every --checkpoint-every steps and at the end; --resume goes on from the newest,
giving the same weights as a run never stopped. Rank 0 prints one JSON line per event to stdout
({"event": "start" | "step" | "epoch" | "checkpoint" | "warning" | "done" | "error", ...}).
"""
import argparse
import importlib.util
import json
import math
import os
import sys
import time

import numpy as np
import torch
import torch.distributed as dist
from torch import nn
from torch.nn.parallel import DistributedDataParallel

_HERE = os.path.dirname(os.path.abspath(__file__))
DATA_FORMAT = "vaekit-data"
CHECKPOINT_PREFIX = "checkpoint-"
CHECKPOINTS_KEPT = 2
VALIDATION_BATCH = 1024


class Refusal(Exception):
    """Something this run cannot do, in one sentence."""


def load_model_module(folder):
    spec = importlib.util.spec_from_file_location("vaekit_exported_model", os.path.join(folder, "model.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# ---- settings ----------------------------------------------------------------------------------


def parse_noise(text):
    """vaekit's noise text: "none", "gaussian[:S]", "salt-and-pepper:P" or "masking:P"."""
    if text in (None, "none"):
        return ("none", 0.0)
    kind, _, value = str(text).partition(":")
    if kind == "gaussian":
        return ("gaussian", float(value) if value else 0.2)
    if kind in ("salt-and-pepper", "masking") and value:
        return (kind, float(value))
    raise Refusal(f"Unknown noise {text!r} in model.py's TRAINING.")


def parse_kl_warmup(text):
    """vaekit's KL warm-up text: "none", "linear:E", "logistic:E", "cyclical:P[:R]"."""
    if text in (None, "none"):
        return ("none",)
    parts = str(text).split(":")
    if parts[0] in ("linear", "logistic") and len(parts) == 2:
        return (parts[0], float(parts[1]))
    if parts[0] == "cyclical" and len(parts) in (2, 3):
        return ("cyclical", float(parts[1]), float(parts[2]) if len(parts) == 3 else 0.5)
    raise Refusal(f"Unknown KL warm-up {text!r} in model.py's TRAINING.")


def kl_factor(schedule, epochs_done):
    """The factor on beta after epochs_done epochs (fractional), as vaekit's train/kl-schedule.ts."""
    kind = schedule[0]
    if kind == "none":
        return 1.0
    if kind == "linear":
        return min(1.0, epochs_done / schedule[1])
    if kind == "logistic":
        e = schedule[1]
        return 1.0 if epochs_done >= e else 1.0 / (1.0 + math.exp(-12.0 * (epochs_done / e - 0.5)))
    period, ramp = schedule[1], schedule[2]
    phase = (epochs_done % period) / period
    return min(1.0, phase / ramp)


def settings_of(training, args):
    """The run's settings: model.py's TRAINING record, changed by the command line's flags."""
    def get(key, default):
        value = training.get(key)
        return default if value is None else value

    s = {
        "epochs": int(args.epochs if args.epochs is not None else get("epochs", 10)),
        "batchSize": int(args.batch_size if args.batch_size is not None else get("batchSize", 128)),
        "learningRate": float(args.lr if args.lr is not None else get("learningRate", 1e-3)),
        "loss": str(get("loss", "elbo")),
        "beta": float(get("beta", 1.0)),
        "freeBits": float(get("freeBits", 0.0)),
        "samples": int(get("samples", 1)),
        "klWarmup": parse_kl_warmup(get("klWarmup", "none")),
        "binarize": bool(get("binarize", False)),
        "noise": parse_noise(get("noise", "gaussian:0.2")),
        "seed": int(get("seed", 0)),
    }
    final = args.lr_final if args.lr_final is not None else training.get("learningRateFinal")
    s["learningRateFinal"] = s["learningRate"] if final is None or (args.lr is not None and args.lr_final is None) else float(final)
    if s["loss"] == "notebook-mse":
        raise Refusal("The notebook's squared error (loss notebook-mse) trains on vaekit's own engine only: use the elbo or iwae loss.")
    if s["loss"] not in ("elbo", "iwae"):
        raise Refusal(f"Unknown loss {s['loss']!r} in model.py's TRAINING.")
    if training.get("earlyStoppingPatience") is not None:
        raise Refusal("Early stopping is vaekit's own engine's: train without it under torchrun.")
    if get("noiseRedraw", "epoch") != "epoch":
        raise Refusal("Noise drawn once for the whole run (noise.redraw once) is vaekit's own engine's: under torchrun the noise is drawn anew every epoch.")
    if get("precision", "fp32") != "fp32":
        raise Refusal("Mixed precision (training.precision bf16) is vaekit's own engine's: train in fp32 under torchrun.")
    if float(get("missingRate", 0)) > 0:
        raise Refusal("Missing-point injection (objective.missingRate) is vaekit's own engine's.")
    if s["epochs"] < 1 or s["batchSize"] < 1 or not s["learningRate"] > 0 or not s["learningRateFinal"] > 0:
        raise Refusal("The epochs and the batch size must be at least 1 and the learning rates positive.")
    if s["freeBits"] > 0 and s["loss"] != "elbo":
        raise Refusal("Free bits apply to the elbo loss.")
    return s


def learning_rate_at(s, epoch):
    if s["epochs"] == 1 or s["learningRateFinal"] == s["learningRate"]:
        return s["learningRate"]
    return s["learningRate"] * (s["learningRateFinal"] / s["learningRate"]) ** ((epoch - 1) / (s["epochs"] - 1))


# ---- data --------------------------------------------------------------------------------------


class Split:
    """One split of an export-data folder: its shards, read one at a time."""

    def __init__(self, folder, entry):
        self.folder = folder
        self.shards = entry["shards"]
        self.rows = int(entry["rows"])

    def read(self, i):
        shard = self.shards[i]
        values = torch.from_numpy(np.load(os.path.join(self.folder, shard["values"])).astype(np.float32, copy=False))
        labels = None
        if shard.get("labels"):
            labels = torch.from_numpy(np.load(os.path.join(self.folder, shard["labels"])).astype(np.int64, copy=False))
        if values.shape[0] != shard["rows"]:
            raise Refusal(f"{shard['values']} holds {values.shape[0]} rows and index.json says {shard['rows']}.")
        return values, labels


def mine_and_counts(split, seed, epoch, rank, world):
    """This epoch's shards of each process (the shards shuffled, then dealt in turn) and their row counts."""
    order = np.random.default_rng([seed, epoch, 0x73686172]).permutation(len(split.shards))
    dealt = [order[r::world] for r in range(world)]
    counts = [sum(int(split.shards[i]["rows"]) for i in d) for d in dealt]
    return [int(i) for i in dealt[rank]], counts


class Stream:
    """One process's rows of an epoch: its shards in turn, each one's rows shuffled, read a slice at a time."""

    def __init__(self, split, shards, seed, epoch):
        self.split = split
        self.shards = shards
        self.seed = seed
        self.epoch = epoch
        self.starts = []
        at = 0
        for i in shards:
            self.starts.append(at)
            at += int(split.shards[i]["rows"])
        self.rows = at
        self.loaded = None

    def _shard(self, k):
        if self.loaded is None or self.loaded[0] != k:
            i = self.shards[k]
            values, labels = self.split.read(i)
            perm = torch.from_numpy(np.random.default_rng([self.seed, self.epoch, i, 0x726f7773]).permutation(values.shape[0]))
            self.loaded = (k, values[perm], None if labels is None else labels[perm])
        return self.loaded

    def take(self, begin, end):
        """Rows [begin, end) of the stream: (values, labels or None)."""
        values, labels = [], []
        at = begin
        while at < end:
            k = max(j for j, s in enumerate(self.starts) if s <= at)
            _, v, y = self._shard(k)
            lo = at - self.starts[k]
            hi = min(end - self.starts[k], v.shape[0])
            values.append(v[lo:hi])
            if y is not None:
                labels.append(y[lo:hi])
            at = self.starts[k] + hi
        if not values:
            return None, None
        return torch.cat(values), (torch.cat(labels) if labels else None)


def share(rows, steps, step):
    """Rows [begin, end) of a process's `rows` that step `step` (0-based) of `steps` takes: an even share."""
    return (step * rows) // steps, ((step + 1) * rows) // steps


def corrupt(noise, target, images, generator):
    """The noisy input of a clean (or binarized) batch: vaekit's noise models."""
    kind, value = noise
    if kind == "none" or value == 0:
        return target
    if kind == "gaussian":
        noisy = target + value * torch.randn(target.shape, generator=generator)
        return noisy.clamp(0.0, 1.0) if images else noisy
    hit = torch.rand(target.shape, generator=generator) < value
    if kind == "salt-and-pepper":
        coin = (torch.rand(target.shape, generator=generator) < 0.5).to(target.dtype)
        return torch.where(hit, coin, target)
    return torch.where(hit, torch.zeros_like(target), target)


# ---- objective ---------------------------------------------------------------------------------


class Objective(nn.Module):
    """The per-example parts of vaekit's objective; DistributedDataParallel wraps this module so
    that its forward (the whole model) prepares the gradients' all-reduce."""

    def __init__(self, vae, loss, samples, log_2pi):
        super().__init__()
        self.vae = vae
        self.loss = loss
        self.samples = samples
        self.log_2pi = log_2pi

    def forward(self, x_input, x_target, label, eps):
        vae = self.vae
        if self.loss == "elbo":
            recon, kl, mean, logvar = vae.elbo_terms(x_input, x_target, label, eps)
            kl_dims = (0.5 * (mean * mean + torch.exp(logvar) - 1 - logvar)).sum(0)
            return recon, kl, kl_dims, recon + kl
        # The importance-weighted bound with k samples per example (Burda et al.), as vaekit's iwae.ts.
        k = self.samples
        mean, logvar = vae.encoder(x_input, label)
        n = mean.shape[0]
        m = mean.repeat_interleave(k, 0)
        lv = logvar.repeat_interleave(k, 0)
        z = m + torch.exp(0.5 * lv) * eps
        labels = None if label is None else label.repeat_interleave(k, 0)
        recon = vae.likelihood(vae.decoder.decode_logits(z, labels), x_target.repeat_interleave(k, 0))
        log_q = -0.5 * (self.log_2pi + lv + eps * eps).sum(1)
        log_p = vae.prior.log_prob(z)
        bound = torch.logsumexp((-recon + log_p - log_q).view(n, k), 1) - math.log(k)
        if type(vae.prior).__name__ == "MixturePrior":
            kl = (-0.5 * (1 + self.log_2pi + lv).sum(1) - log_p).view(n, k).mean(1)
        else:
            kl = 0.5 * (mean * mean + torch.exp(logvar) - 1 - logvar).sum(1)
        return recon.view(n, k).mean(1), kl, kl.new_zeros(mean.shape[1]), -bound


# ---- distributed -------------------------------------------------------------------------------


def all_sum(values, device):
    """A list of floats summed over the processes (float64)."""
    t = torch.tensor(values, dtype=torch.float64, device=device)
    dist.all_reduce(t)
    return t.tolist()


class Events:
    """Rank 0's JSON lines on stdout."""

    def __init__(self, rank):
        self.rank = rank

    def __call__(self, event, **fields):
        if self.rank == 0:
            sys.stdout.write(json.dumps(dict(event=event, **fields)) + "\n")
            sys.stdout.flush()


def checkpoint_files(folder):
    if not os.path.isdir(folder):
        return []
    found = []
    for name in os.listdir(folder):
        if name.startswith(CHECKPOINT_PREFIX) and name.endswith(".pt"):
            try:
                found.append((int(name[len(CHECKPOINT_PREFIX):-3]), os.path.join(folder, name)))
            except ValueError:
                pass
    return sorted(found)


def write_lines(path, lines):
    temporary = path + ".partial"
    with open(temporary, "w", encoding="utf-8") as f:
        f.write("".join(lines))
        f.flush()
        os.fsync(f.fileno())
    os.replace(temporary, path)


def metrics_line(record):
    return json.dumps({k: v for k, v in record.items() if k not in ("seconds", "imagesPerSecond")}) + "\n"


def timing_line(record):
    return json.dumps({"epoch": record["epoch"], "seconds": record["seconds"], "imagesPerSecond": record["imagesPerSecond"]}) + "\n"


# ---- training ----------------------------------------------------------------------------------


def main(argv=None):
    parser = argparse.ArgumentParser(description="Train model.py's VAE under torchrun (DistributedDataParallel), as vaekit would.")
    parser.add_argument("--data", required=True, help="a folder written by vaekit export-data")
    parser.add_argument("--out", required=True, help="where the vaekit model bundle, metrics.jsonl and timing.jsonl go")
    parser.add_argument("--model", default=_HERE, help="the folder of model.py and model.safetensors (default: this file's)")
    parser.add_argument("--checkpoints", default=None, help="the checkpoints' folder (default: OUT/checkpoints-torch)")
    parser.add_argument("--checkpoint-every", type=int, default=0, help="save a checkpoint every N steps (0: at the end of each epoch)")
    parser.add_argument("--resume", action="store_true", help="go on from the newest checkpoint in --checkpoints")
    parser.add_argument("--stop-after-steps", type=int, default=0, help="stop (with a checkpoint) after this many steps in all, as if preempted")
    parser.add_argument("--backend", default=None, help="torch.distributed's backend (default: nccl with CUDA, else gloo)")
    parser.add_argument("--progress-every", type=int, default=1, help="rank 0 prints a step line every N steps")
    parser.add_argument("--epochs", type=int, default=None)
    parser.add_argument("--batch-size", type=int, default=None, help="the global batch, split across the processes")
    parser.add_argument("--lr", type=float, default=None)
    parser.add_argument("--lr-final", type=float, default=None)
    args = parser.parse_args(argv)

    rank = int(os.environ.get("RANK", "0"))
    events = Events(rank)
    try:
        return train(args, events)
    except Refusal as refusal:
        events("error", message=str(refusal))
        if rank == 0:
            sys.stderr.write(f"train.py: {refusal}\n")
        return 2


def train(args, events):
    m = load_model_module(args.model)
    settings = settings_of(m.TRAINING or {}, args)
    with open(os.path.join(args.data, "index.json"), encoding="utf-8") as f:
        index = json.load(f)
    if index.get("format") != DATA_FORMAT:
        raise Refusal(f"{args.data} is not a folder vaekit export-data wrote (its index.json is not a {DATA_FORMAT} index).")
    image = m._image_shape(m.CONFIG)
    model_shape = list(image) if image is not None else [m._size(m.CONFIG)]
    if list(index["shape"]) != model_shape:
        raise Refusal(f"{args.data} holds examples of shape {index['shape']} and the model takes {model_shape}.")
    classes = int(m.CONFIG["classes"])
    if classes > 0 and not index.get("labels"):
        raise Refusal(f"This is a conditional model and {args.data} has no labels.")

    backend = args.backend or ("nccl" if torch.cuda.is_available() else "gloo")
    if not dist.is_available():
        raise Refusal("This PyTorch has no torch.distributed.")
    if "RANK" not in os.environ:
        os.environ.update({"RANK": "0", "WORLD_SIZE": "1", "LOCAL_RANK": "0", "MASTER_ADDR": "127.0.0.1", "MASTER_PORT": os.environ.get("MASTER_PORT", "29511")})
    dist.init_process_group(backend)
    try:
        return train_in_group(args, events, m, settings, index, backend, image is not None, classes)
    finally:
        dist.destroy_process_group()


def train_in_group(args, events, m, s, index, backend, images, classes):
    rank, world = dist.get_rank(), dist.get_world_size()
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    if backend == "nccl":
        torch.cuda.set_device(local_rank)
        device = torch.device("cuda", local_rank)
    else:
        device = torch.device("cpu")
    train_split = Split(args.data, index["splits"]["train"])
    val_entry = index["splits"].get("validation")
    val_split = Split(args.data, val_entry) if val_entry and int(val_entry["rows"]) > 0 else None
    if len(train_split.shards) < world:
        raise Refusal(f"{args.data} has {len(train_split.shards)} training shards for {world} processes: export the data with at least {world} shards.")
    if s["batchSize"] < world:
        raise Refusal(f"The global batch of {s['batchSize']} is smaller than the {world} processes.")
    steps = -(-train_split.rows // s["batchSize"])
    checkpoints = args.checkpoints or os.path.join(args.out, "checkpoints-torch")
    os.makedirs(args.out, exist_ok=True)

    torch.manual_seed(s["seed"])
    vae = m.load_vae(args.model).to(device)
    objective = Objective(vae, s["loss"], s["samples"], m.LOG_2PI).to(device)
    ddp = DistributedDataParallel(objective, device_ids=[local_rank] if device.type == "cuda" else None)
    optimizer = torch.optim.Adam(vae.parameters(), lr=s["learningRate"], eps=1e-7)
    data_gen = torch.Generator()
    data_gen.manual_seed(s["seed"] * 7919 + 1000003 * (rank + 1))
    sample_gen = torch.Generator(device=device)
    sample_gen.manual_seed(s["seed"] * 104729 + 999983 * (rank + 1))

    # Where this call starts: the beginning, or the newest checkpoint.
    epoch, step_in_epoch, global_step = 1, 0, 0
    totals = [0.0, 0.0, 0.0, 0.0]  # loss, recon, kl (each times rows), rows of the epoch so far
    history = []
    skipped = 0
    if args.resume:
        found = checkpoint_files(checkpoints)
        if not found:
            raise Refusal(f"{checkpoints} has no checkpoint to resume from.")
        c = torch.load(found[-1][1], map_location="cpu")
        if c["world"] != world:
            raise Refusal(f"The checkpoint was written by {c['world']} processes and this run has {world}: resume with as many.")
        if c["settings"] != json.loads(json.dumps(s)):
            raise Refusal("The checkpoint's settings (epochs, batch, learning rate, objective, noise, seed) are not this run's.")
        vae.load_state_dict(c["model"])
        optimizer.load_state_dict(c["optimizer"])
        data_gen.set_state(c["rng"][rank]["data"])
        sample_gen.set_state(c["rng"][rank]["sample"])
        epoch, step_in_epoch, global_step = c["epoch"], c["stepInEpoch"], c["steps"]
        totals, history, skipped = list(c["totals"]), list(c["history"]), c["skipped"]
        if step_in_epoch == steps:
            epoch, step_in_epoch, totals = epoch + 1, 0, [0.0, 0.0, 0.0, 0.0]
    if rank == 0:
        write_lines(os.path.join(args.out, "metrics.jsonl"), [metrics_line(r) for r in history])
        write_lines(os.path.join(args.out, "timing.jsonl"), [timing_line(r) for r in history])
    events("start", world=world, backend=backend, device=str(device), epochs=s["epochs"], steps=steps, batchSize=s["batchSize"],
           trainRows=train_split.rows, validationRows=0 if val_split is None else val_split.rows, epoch=epoch, stepInEpoch=step_in_epoch)

    def save_checkpoint(at_epoch, at_step):
        rng = [None] * world
        dist.all_gather_object(rng, {"data": data_gen.get_state(), "sample": sample_gen.get_state().cpu()})
        if rank == 0:
            os.makedirs(checkpoints, exist_ok=True)
            path = os.path.join(checkpoints, f"{CHECKPOINT_PREFIX}{global_step}.pt")
            state = {
                "format": "vaekit-torchrun-checkpoint", "world": world, "settings": json.loads(json.dumps(s)),
                "model": {k: v.detach().cpu() for k, v in vae.state_dict().items()}, "optimizer": optimizer.state_dict(),
                "epoch": at_epoch, "stepInEpoch": at_step, "steps": global_step, "totals": list(totals), "history": list(history),
                "skipped": skipped, "rng": rng,
            }
            torch.save(state, path + ".partial")
            os.replace(path + ".partial", path)
            for _, old in checkpoint_files(checkpoints)[:-CHECKPOINTS_KEPT]:
                os.remove(old)
            events("checkpoint", path=path, steps=global_step, epoch=at_epoch, stepInEpoch=at_step)
        dist.barrier()

    latent = int(m.CONFIG["latent"])
    k = s["samples"] if s["loss"] == "iwae" else 1
    while epoch <= s["epochs"]:
        for group in optimizer.param_groups:
            group["lr"] = learning_rate_at(s, epoch)
        mine, counts = mine_and_counts(train_split, s["seed"], epoch, rank, world)
        stream = Stream(train_split, mine, s["seed"], epoch)
        started = time.time()
        epoch_rows = sum(counts)
        while step_in_epoch < steps:
            begin, end = share(stream.rows, steps, step_in_epoch)
            global_rows = sum(share(c, steps, step_in_epoch)[1] - share(c, steps, step_in_epoch)[0] for c in counts)
            values, labels = stream.take(begin, end)
            if values is None:
                values = torch.zeros([0] + list(index["shape"]))
                labels = torch.zeros([0], dtype=torch.int64) if classes > 0 else None
            target = torch.bernoulli(values, generator=data_gen) if s["binarize"] else values
            x_input = corrupt(s["noise"], target, images, data_gen)
            label = labels.to(device) if classes > 0 else None
            eps = torch.randn((values.shape[0] * k, latent), generator=sample_gen, device=device)
            beta = s["beta"] * kl_factor(s["klWarmup"], epoch - 1 + (step_in_epoch + 1) / steps)
            recon, kl, kl_dims, per_example = ddp(x_input.to(device), target.to(device), label, eps)
            scale = world / max(global_rows, 1)
            if s["loss"] == "elbo" and s["freeBits"] > 0:
                global_dims = kl_dims.detach().clone()
                dist.all_reduce(global_dims)
                global_dims /= max(global_rows, 1)
                active = (global_dims > s["freeBits"]).to(kl_dims.dtype)
                loss = scale * (recon.sum() + beta * (kl_dims * active).sum())
                sums = all_sum([float(recon.detach().sum()), float(kl.detach().sum())], device)
                step_loss = sums[0] / max(global_rows, 1) + beta * float(global_dims.clamp(min=s["freeBits"]).sum())
            elif s["loss"] == "elbo":
                loss = scale * (recon + beta * kl).sum()
                sums = all_sum([float(recon.detach().sum()), float(kl.detach().sum())], device)
                step_loss = (sums[0] + beta * sums[1]) / max(global_rows, 1)
            else:
                loss = scale * per_example.sum()
                sums = all_sum([float(recon.detach().sum()), float(kl.detach().sum()), float(per_example.detach().sum())], device)
                step_loss = sums[2] / max(global_rows, 1)
            optimizer.zero_grad(set_to_none=False)
            loss.backward()
            step_in_epoch += 1
            global_step += 1
            if math.isfinite(step_loss):
                optimizer.step()
                totals = [totals[0] + step_loss * global_rows, totals[1] + sums[0], totals[2] + sums[1], totals[3] + global_rows]
            else:
                skipped += 1
                events("warning", message=f"Step {step_in_epoch} of epoch {epoch}: the loss is not finite, so the step was skipped.")
            if step_in_epoch % max(args.progress_every, 1) == 0 or step_in_epoch == steps:
                seen = max(totals[3], 1)
                events("step", epoch=epoch, step=step_in_epoch, steps=steps, globalStep=global_step,
                       loss=totals[0] / seen, recon=totals[1] / seen, kl=totals[2] / seen)
            stopping = args.stop_after_steps > 0 and global_step >= args.stop_after_steps
            due = args.checkpoint_every > 0 and global_step % args.checkpoint_every == 0
            if step_in_epoch < steps and (stopping or due):
                save_checkpoint(epoch, step_in_epoch)
            if stopping and step_in_epoch < steps:
                events("stopped", steps=global_step, epoch=epoch, stepInEpoch=step_in_epoch)
                return 0
        if totals[3] == 0:
            raise Refusal(f"Training diverged in epoch {epoch} (no step had a finite loss); try a lower learning rate.")
        seconds = time.time() - started
        record = {
            "epoch": epoch, "loss": totals[0] / totals[3], "recon": totals[1] / totals[3], "kl": totals[2] / totals[3],
            "beta": s["beta"] * kl_factor(s["klWarmup"], epoch),
        }
        if val_split is not None:
            record.update(validate(objective, val_split, s, rank, world, device, images, classes, latent, k))
        record.update({"seconds": seconds, "imagesPerSecond": epoch_rows / seconds if seconds > 0 else 0.0})
        history.append(record)
        if rank == 0:
            with open(os.path.join(args.out, "metrics.jsonl"), "a", encoding="utf-8") as f:
                f.write(metrics_line(record))
            with open(os.path.join(args.out, "timing.jsonl"), "a", encoding="utf-8") as f:
                f.write(timing_line(record))
        events("epoch", **record)
        stopping = args.stop_after_steps > 0 and global_step >= args.stop_after_steps and epoch < s["epochs"]
        if stopping or args.checkpoint_every == 0 or global_step % args.checkpoint_every == 0 or epoch == s["epochs"]:
            save_checkpoint(epoch, steps)
        if stopping:
            events("stopped", steps=global_step, epoch=epoch, stepInEpoch=steps)
            return 0
        epoch, step_in_epoch, totals = epoch + 1, 0, [0.0, 0.0, 0.0, 0.0]

    if rank == 0:
        training = dict(m.TRAINING or {})
        training.update({
            "epochs": s["epochs"], "batchSize": s["batchSize"], "learningRate": s["learningRate"], "learningRateFinal": s["learningRateFinal"],
            "epochsTrained": len(history), "engine": "torchrun", "processes": world, "distributedBackend": backend,
            "torch": torch.__version__, "skippedSteps": skipped,
        })
        m.save_vaekit_bundle(vae.to("cpu"), args.out, training=training)
        events("done", out=args.out, steps=global_step, epochs=len(history))
    dist.barrier()
    return 0


def validate(objective, split, s, rank, world, device, images, classes, latent, k):
    """The objective (beta without warm-up, free bits over the whole set) on the validation shards,
    dealt to the processes in turn; each shard's noise and samples the same every epoch."""
    sums = [0.0, 0.0, 0.0, 0.0]
    kl_dims = torch.zeros(latent, dtype=torch.float64, device=device)
    with torch.no_grad():
        for i in range(rank, len(split.shards), world):
            values, labels = split.read(i)
            data_gen = torch.Generator()
            data_gen.manual_seed(s["seed"] * 31 + 7 * i + 5)
            sample_gen = torch.Generator(device=device)
            sample_gen.manual_seed(s["seed"] * 37 + 11 * i + 3)
            for at in range(0, values.shape[0], VALIDATION_BATCH):
                target = values[at:at + VALIDATION_BATCH]
                if s["binarize"]:
                    target = torch.bernoulli(target, generator=data_gen)
                x_input = corrupt(s["noise"], target, images, data_gen)
                label = labels[at:at + VALIDATION_BATCH].to(device) if classes > 0 else None
                eps = torch.randn((target.shape[0] * k, latent), generator=sample_gen, device=device)
                recon, kl, dims, per_example = objective(x_input.to(device), target.to(device), label, eps)
                sums[0] += float(recon.sum())
                sums[1] += float(kl.sum())
                sums[2] += float(per_example.sum())
                sums[3] += target.shape[0]
                kl_dims += dims.double()
    total = all_sum(sums, device)
    dist.all_reduce(kl_dims)
    n = max(total[3], 1)
    if s["loss"] == "iwae":
        loss = total[2] / n
    elif s["freeBits"] > 0:
        loss = total[0] / n + s["beta"] * float((kl_dims / n).clamp(min=s["freeBits"]).sum())
    else:
        loss = (total[0] + s["beta"] * total[1]) / n
    return {"valLoss": loss, "valRecon": total[0] / n, "valKl": total[1] / n}


if __name__ == "__main__":
    sys.exit(main())
