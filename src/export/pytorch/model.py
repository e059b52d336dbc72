"""A variational autoencoder trained with vaekit, as plain PyTorch modules.

Written by vaekit's PyTorch export with model.safetensors (the weights). Needs Python 3.9+ and
torch >= 1.13, nothing from vaekit; it uses the safetensors package when installed and otherwise
reads and writes the file itself.

    import sys; sys.path.insert(0, 'EXPORT_FOLDER')
    import model
    encoder, decoder = model.load()            # or model.load(folder, map_location='cuda')
    mean, logvar = encoder(x)                  # (add label=... for a conditional model)
    images = decoder(z)

    vae = model.load_vae(map_location='cuda')  # encoder, decoder, likelihood, prior, objective
    optimizer = torch.optim.Adam(vae.parameters(), lr=1e-3)
    loss = vae.negative_elbo(x)                # vaekit's training objective, nats per example
    optimizer.zero_grad(); loss.backward(); optimizer.step()
    model.save(vae, 'trained')                 # model.py + model.safetensors again
    model.save_vaekit_bundle(vae, 'trained-vaekit')   # a model folder vaekit loads

__VAEKIT_IO_DESCRIPTION__

CONFIG is the model's vaekit config (config.json's "model"), DATA its data description and
TRAINING how it was trained (informational); OBJECTIVE holds the beta and free bits the training
objective uses. The modules are built from CONFIG.

Weights: model.safetensors holds the VAE's state_dict under PyTorch's names and layouts (Linear
[out, in], Conv2d [out, in, kH, kW], ConvTranspose2d [in, out, kH, kW], likelihood.logvar [C, H, W]).
vaekit's own weights are channels-last and named per layer; VAEKIT_NAMES maps each PyTorch name to
its vaekit name and layout change, and save_vaekit_bundle() writes a vaekit model folder
(config.json + weights.safetensors) that vaekit's commands load. load_vaekit_bundle() reads one
(of this same config) back into a VAE.
"""
import array
import json
import math
import os
import shutil
import struct
import sys
from typing import Dict, Optional, Tuple

import torch
import torch.nn.functional as F
from torch import nn

CONFIG = __VAEKIT_CONFIG__

DATA = __VAEKIT_DATA__

TRAINING = __VAEKIT_TRAINING__

# The training objective's settings (from TRAINING; beta 1 and no free bits when it has none).
OBJECTIVE = {"beta": __VAEKIT_BETA__, "freeBits": __VAEKIT_FREE_BITS__}

# PyTorch name -> (vaekit name, layout change, (h, w, c) of the permuted map or None). Layout changes:
# "same"; "chw": a channels-last (h, w, c) vector in channels-first order; "linear": vaekit's kernel
# [in, out] transposed; "linear_chw_in" / "linear_chw_out": also with the input columns (the first
# h*w*c) / output rows in channels-first order; "conv2d": [kH, kW, in, out] as [out, in, kH, kW];
# "conv_transpose2d": [kH, kW, out, in] as [in, out, kH, kW].
VAEKIT_NAMES = __VAEKIT_NAMES__

WEIGHTS_FILE = __VAEKIT_WEIGHTS_FILE__
LEAKY_SLOPE = 0.01
# The learned log-variance is floored at 2 ln 0.01 (sigma 0.01), as in vaekit.
MIN_LOGVAR = 2 * math.log(0.01)
LOG_2PI = math.log(2 * math.pi)
_HERE = os.path.dirname(os.path.abspath(__file__))


def _image_shape(config) -> Optional[Tuple[int, int, int]]:
    """(C, H, W) of an image model, None for a model of features."""
    s = config["inputShape"]
    return (s[2], s[0], s[1]) if len(s) == 3 else None


def _size(config) -> int:
    n = 1
    for d in config["inputShape"]:
        n *= d
    return n


def _activation(name: str) -> nn.Module:
    if name == "relu":
        return nn.ReLU()
    if name == "leaky_relu":
        return nn.LeakyReLU(LEAKY_SLOPE)
    if name == "tanh":
        return nn.Tanh()
    if name == "sigmoid":
        return nn.Sigmoid()
    if name == "linear":
        return nn.Identity()
    raise ValueError(f"Unknown activation {name!r}.")


def _one_hot(label, classes: int, like: torch.Tensor) -> torch.Tensor:
    """label (class indices, int64 [N]) as one-hot rows [N, classes] of like's dtype and device."""
    if label is None:
        raise ValueError(f"This is a conditional model: pass label, the class index (0 to {classes - 1}) of each example, as an int64 tensor [N].")
    label = torch.as_tensor(label, device=like.device)
    if label.dim() != 1 or label.shape[0] != like.shape[0]:
        raise ValueError(f"label must hold one class index per example, shape [{like.shape[0]}], not {list(label.shape)}.")
    return F.one_hot(label.long(), classes).to(like.dtype)


class Encoder(nn.Module):
    """q(z | x): x -> (mean, logvar), each [N, latent]; label: int64 class indices [N] for a conditional model."""

    def __init__(self, config=CONFIG):
        super().__init__()
        self.latent = config["latent"]
        self.classes = config["classes"]
        self.conv = config["architecture"] == "conv"
        act = config["activation"]
        layers = []
        if self.conv:
            s = config["inputShape"]
            h, w, ch = s[0], s[1], s[2] + self.classes
            for out in config["convChannels"]:
                layers += [nn.Conv2d(ch, out, kernel_size=4, stride=2, padding=1), _activation(act)]
                h, w, ch = h // 2, w // 2, out
            layers.append(nn.Flatten())
            width = h * w * ch
        else:
            width = _size(config) + self.classes
        for hidden in config["encoderHidden"]:
            layers += [nn.Linear(width, hidden), _activation(act)]
            width = hidden
        layers.append(nn.Linear(width, 2 * self.latent))
        self.net = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor, label: Optional[torch.Tensor] = None) -> Tuple[torch.Tensor, torch.Tensor]:
        if self.conv:
            h = x
            if self.classes:
                planes = _one_hot(label, self.classes, x)[:, :, None, None].expand(-1, -1, x.shape[2], x.shape[3])
                h = torch.cat([x, planes], dim=1)
        else:
            h = x.flatten(1)
            if self.classes:
                h = torch.cat([h, _one_hot(label, self.classes, h)], dim=1)
        out = self.net(h)
        return out[:, : self.latent], out[:, self.latent :]


class Decoder(nn.Module):
    """p(x | z): z [N, latent] -> images in [0, 1] (sigmoid of the logits), or features (the logits)."""

    def __init__(self, config=CONFIG):
        super().__init__()
        self.latent = config["latent"]
        self.classes = config["classes"]
        self.image = _image_shape(config)
        act = config["activation"]
        width = self.latent + self.classes
        layers = []
        for hidden in config["decoderHidden"]:
            layers += [nn.Linear(width, hidden), _activation(act)]
            width = hidden
        if config["architecture"] == "conv":
            channels = config["convChannels"]
            n = len(channels)
            image_channels, height, width_px = self.image
            h, w, ch = height // 2**n, width_px // 2**n, channels[-1]
            layers += [nn.Linear(width, h * w * ch), _activation(act), nn.Unflatten(1, (ch, h, w))]
            for i in reversed(range(n)):
                out = image_channels if i == 0 else channels[i - 1]
                layers.append(nn.ConvTranspose2d(ch, out, kernel_size=4, stride=2, padding=1))
                if i > 0:
                    layers.append(_activation(act))
                ch = out
        else:
            layers.append(nn.Linear(width, _size(config)))
            if self.image is not None:
                layers.append(nn.Unflatten(1, self.image))
        self.net = nn.Sequential(*layers)

    def decode_logits(self, z: torch.Tensor, label: Optional[torch.Tensor] = None) -> torch.Tensor:
        """The decoder's output before its activation: [N, C, H, W] for images, [N, D] for features."""
        if self.classes:
            z = torch.cat([z, _one_hot(label, self.classes, z)], dim=1)
        return self.net(z)

    def forward(self, z: torch.Tensor, label: Optional[torch.Tensor] = None) -> torch.Tensor:
        logits = self.decode_logits(z, label)
        return torch.sigmoid(logits) if self.image is not None else logits


def continuous_bernoulli_log_normalizer(logits: torch.Tensor) -> torch.Tensor:
    """log C(l), C(l) = l / tanh(l / 2) (2 at l = 0; the series log(2 + l^2 / 6) near 0)."""
    a = logits.abs()
    small = a < 1e-3
    safe = torch.where(small, torch.ones_like(a), a)
    return torch.where(small, torch.log(2 + logits * logits / 6), torch.log(safe / torch.tanh(safe / 2)))


class PixelLikelihood(nn.Module):
    """-log p(x | z) per example, in nats, from the decoder's logits (vaekit's likelihood):
    bernoulli: softplus(l) - l x; continuous-bernoulli: that minus log C(l); gaussian: the mean is
    sigmoid(l) for images (l for features), the log-variance fixed at 2 ln gaussianSigma or learned
    per value (the parameter logvar, [C, H, W] or [D], floored at MIN_LOGVAR: its value is floored in
    the loss and the gradient passes through the floor)."""

    def __init__(self, config=CONFIG):
        super().__init__()
        self.kind = config["likelihood"]
        self.image = _image_shape(config)
        self.learned = self.kind == "gaussian" and bool(config["gaussianLearnedVariance"])
        self.initial_logvar = 2 * math.log(config["gaussianSigma"])
        if self.learned:
            shape = self.image if self.image is not None else (_size(config),)
            self.logvar = nn.Parameter(torch.full(shape, self.initial_logvar))

    def mean(self, logits: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(logits) if self.image is not None else logits

    def forward(self, logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        dims = tuple(range(1, logits.dim()))
        if self.kind in ("bernoulli", "continuous-bernoulli"):
            nll = F.binary_cross_entropy_with_logits(logits, target, reduction="none")
            if self.kind == "continuous-bernoulli":
                nll = nll - continuous_bernoulli_log_normalizer(logits)
            return nll.sum(dims)
        if self.learned:
            logvar = self.logvar + (self.logvar.clamp(min=MIN_LOGVAR) - self.logvar).detach()
        else:
            logvar = torch.full((), self.initial_logvar, dtype=logits.dtype, device=logits.device)
        d = self.mean(logits) - target
        return (0.5 * (LOG_2PI + logvar + d * d * torch.exp(-logvar))).sum(dims)


class StandardNormalPrior(nn.Module):
    """p(z) = N(0, I)."""

    def __init__(self, latent: int):
        super().__init__()
        self.latent = latent

    def log_prob(self, z: torch.Tensor) -> torch.Tensor:
        return -0.5 * (z * z).sum(1) - 0.5 * self.latent * LOG_2PI

    def sample(self, n: int, device=None) -> torch.Tensor:
        return torch.randn(n, self.latent, device=device)


class MixturePrior(nn.Module):
    """p(z) = sum_k pi_k N(z; means_k, diag(exp(logvars_k))), pi = softmax(logits): vaekit's learned "mog" prior."""

    def __init__(self, components: int, latent: int):
        super().__init__()
        self.means = nn.Parameter(torch.randn(components, latent))
        self.logvars = nn.Parameter(torch.zeros(components, latent))
        self.logits = nn.Parameter(torch.zeros(components))

    def log_prob(self, z: torch.Tensor) -> torch.Tensor:
        latent = z.shape[1]
        log_pi = torch.log_softmax(self.logits, dim=0)
        constant = log_pi - 0.5 * (latent * LOG_2PI + self.logvars.sum(1))
        diff = z[:, None, :] - self.means[None, :, :]
        q = (diff * diff * torch.exp(-self.logvars)[None, :, :]).sum(2)
        return torch.logsumexp(constant[None, :] - 0.5 * q, dim=1)

    def sample(self, n: int, device=None) -> torch.Tensor:
        k = torch.multinomial(torch.softmax(self.logits.detach(), dim=0), n, replacement=True)
        means, logvars = self.means.detach()[k], self.logvars.detach()[k]
        return (means + torch.exp(0.5 * logvars) * torch.randn_like(means)).to(device or means.device)


class VAE(nn.Module):
    """The whole model: encoder, decoder, likelihood (likelihood.logvar when learned) and prior
    (prior.means, prior.logvars, prior.logits for the mixture), with vaekit's training objective."""

    def __init__(self, config=CONFIG, objective=OBJECTIVE):
        super().__init__()
        self.config = config
        self.encoder = Encoder(config)
        self.decoder = Decoder(config)
        self.likelihood = PixelLikelihood(config)
        if config["prior"] == "mog":
            self.prior = MixturePrior(config["priorComponents"], config["latent"])
        else:
            self.prior = StandardNormalPrior(config["latent"])
        self.beta = float(objective.get("beta", 1.0))
        self.free_bits = float(objective.get("freeBits", 0.0))

    def elbo_terms(self, x_input, x_target=None, label=None, eps=None):
        """Per example (nats, [N] each): -log p(x_target | z) and the KL term, with one
        reparameterized sample z = mean + exp(logvar / 2) * eps of q(z | x_input) (eps ~ N(0, I)
        [N, latent] unless given). The KL is the closed form for N(0, I); for the mixture prior it
        is -H[q(z | x)] - log p(z) at the same z, as vaekit computes it. Also returns (mean, logvar)."""
        if x_target is None:
            x_target = x_input
        mean, logvar = self.encoder(x_input, label)
        if eps is None:
            eps = torch.randn_like(mean)
        z = mean + torch.exp(0.5 * logvar) * eps
        recon = self.likelihood(self.decoder.decode_logits(z, label), x_target)
        if isinstance(self.prior, MixturePrior):
            kl = -0.5 * (1 + LOG_2PI + logvar).sum(1) - self.prior.log_prob(z)
        else:
            kl = 0.5 * (mean * mean + torch.exp(logvar) - 1 - logvar).sum(1)
        return recon, kl, mean, logvar

    def negative_elbo(self, x_input, x_target=None, label=None, eps=None, beta=None, free_bits=None, reduction="mean"):
        """vaekit's training objective, nats per example: -log p(x_target | z) + beta * KL(q(z | x_input) || p(z))
        (x_target defaults to x_input; a denoising model sees noisy inputs and is scored against clean
        targets). beta and free_bits default to OBJECTIVE's. With free bits lambda > 0 the KL term is
        sum_d max(lambda, KL_d), KL_d being dimension d's batch-mean KL (standard prior only).
        reduction "mean": the batch mean (what vaekit minimises), "none": each example's [N] (no free bits).
        This is the ELBO whatever TRAINING["loss"] says (vaekit's iwae and notebook-mse losses are not here);
        a KL warm-up is yours to schedule through beta."""
        beta = self.beta if beta is None else float(beta)
        free_bits = self.free_bits if free_bits is None else float(free_bits)
        recon, kl, mean, logvar = self.elbo_terms(x_input, x_target, label, eps)
        if free_bits > 0:
            if isinstance(self.prior, MixturePrior):
                raise ValueError("Free bits need the standard normal prior: the KL to a mixture prior does not split into one term per latent dimension.")
            if reduction != "mean":
                raise ValueError("Free bits apply to a batch's mean KL per dimension: use reduction='mean'.")
            kl_per_dim = (0.5 * (mean * mean + torch.exp(logvar) - 1 - logvar)).mean(0)
            return recon.mean() + beta * torch.clamp(kl_per_dim, min=free_bits).sum()
        loss = recon + beta * kl
        if reduction == "mean":
            return loss.mean()
        if reduction == "none":
            return loss
        raise ValueError(f"reduction must be 'mean' or 'none', not {reduction!r}.")

    def forward(self, x, label=None):
        """Reconstructions: the decoded posterior mean."""
        mean, _ = self.encoder(x, label)
        return self.decoder(mean, label)

    def sample(self, n: int, label=None) -> torch.Tensor:
        """n examples decoded from z ~ p(z) (with a conditional model, label: [n] class indices)."""
        device = next(self.parameters()).device
        with torch.no_grad():
            return self.decoder(self.prior.sample(n, device), label)


def standardize(x: torch.Tensor) -> torch.Tensor:
    """Raw features -> what the model takes: (x - mean) / std of the training split (identity when DATA has none)."""
    s = (DATA or {}).get("standardization")
    if s is None:
        return x
    mean = torch.tensor(s["mean"], dtype=x.dtype, device=x.device)
    std = torch.tensor(s["std"], dtype=x.dtype, device=x.device)
    return (x - mean) / std


def unstandardize(x: torch.Tensor) -> torch.Tensor:
    """The model's features back in the data's units."""
    s = (DATA or {}).get("standardization")
    if s is None:
        return x
    mean = torch.tensor(s["mean"], dtype=x.dtype, device=x.device)
    std = torch.tensor(s["std"], dtype=x.dtype, device=x.device)
    return x * std + mean


# ---- safetensors -----------------------------------------------------------------------------


def read_safetensors(path) -> Dict[str, torch.Tensor]:
    """A safetensors file of float32 tensors (safetensors.torch.load_file when installed)."""
    try:
        from safetensors.torch import load_file
    except ImportError:
        load_file = None
    if load_file is not None:
        return load_file(str(path))
    with open(path, "rb") as f:
        raw = f.read()
    (size,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8 : 8 + size].decode("utf-8"))
    data = bytearray(raw[8 + size :])
    tensors = {}
    for name, entry in header.items():
        if name == "__metadata__":
            continue
        if entry["dtype"] != "F32":
            raise ValueError(f"{path}: tensor {name} is {entry['dtype']}; this reader takes F32 only.")
        begin, end = entry["data_offsets"]
        if sys.byteorder == "little" and end > begin:
            flat = torch.frombuffer(data, dtype=torch.float32, count=(end - begin) // 4, offset=begin).clone()
        else:
            values = array.array("f")
            values.frombytes(bytes(data[begin:end]))
            if sys.byteorder == "big":
                values.byteswap()
            flat = torch.tensor(values.tolist(), dtype=torch.float32)
        tensors[name] = flat.reshape(entry["shape"])
    return tensors


def _float32_bytes(t: torch.Tensor) -> bytes:
    try:
        return t.numpy().astype("<f4").tobytes()
    except (ImportError, RuntimeError):
        values = array.array("f", t.reshape(-1).tolist())
        if sys.byteorder == "big":
            values.byteswap()
        return values.tobytes()


def write_safetensors(tensors: Dict[str, torch.Tensor], path, metadata: Optional[Dict[str, str]] = None) -> None:
    """Float32 tensors as a safetensors file (safetensors.torch.save_file when installed), written whole or not at all."""
    tensors = {k: v.detach().to("cpu", torch.float32).contiguous() for k, v in tensors.items()}
    path = str(path)
    try:
        from safetensors.torch import save_file
    except ImportError:
        save_file = None
    temporary = path + ".partial"
    if save_file is not None:
        save_file(tensors, temporary, metadata=metadata)
    else:
        header = {}
        if metadata:
            header["__metadata__"] = dict(metadata)
        chunks = []
        offset = 0
        for name in sorted(tensors):
            chunk = _float32_bytes(tensors[name])
            header[name] = {"dtype": "F32", "shape": list(tensors[name].shape), "data_offsets": [offset, offset + len(chunk)]}
            chunks.append(chunk)
            offset += len(chunk)
        text = json.dumps(header, separators=(",", ":")).encode("utf-8")
        text += b" " * (-len(text) % 8)
        with open(temporary, "wb") as f:
            f.write(struct.pack("<Q", len(text)))
            f.write(text)
            for chunk in chunks:
                f.write(chunk)
    os.replace(temporary, path)


# ---- loading and saving ----------------------------------------------------------------------


def load_vae(folder=None, map_location="cpu") -> VAE:
    """The VAE with the weights of folder/model.safetensors (default: this file's folder), every key checked."""
    folder = _HERE if folder is None else folder
    vae = VAE()
    vae.load_state_dict(read_safetensors(os.path.join(folder, WEIGHTS_FILE)), strict=True)
    return vae.to(map_location)


def load(folder=None, map_location="cpu") -> Tuple[Encoder, Decoder]:
    """(encoder, decoder) with the weights of folder/model.safetensors (default: this file's folder)."""
    vae = load_vae(folder, map_location)
    return vae.encoder, vae.decoder


def _check_config(vae: VAE) -> None:
    if vae.config != CONFIG:
        raise ValueError("This VAE's config is not this file's CONFIG: save it with a model.py whose CONFIG is its config.")


def save(vae: VAE, folder) -> None:
    """folder/model.safetensors (the VAE's state_dict) and a copy of this file: the export's format again."""
    _check_config(vae)
    os.makedirs(folder, exist_ok=True)
    write_safetensors(vae.state_dict(), os.path.join(folder, WEIGHTS_FILE), {"format": "pt", "source": "vaekit-export"})
    target = os.path.join(folder, os.path.basename(__file__))
    if not (os.path.exists(target) and os.path.samefile(target, __file__)):
        shutil.copyfile(__file__, target)


def _to_vaekit(t: torch.Tensor, how: str, hwc) -> torch.Tensor:
    """A tensor in PyTorch's layout -> vaekit's (see VAEKIT_NAMES)."""
    t = t.detach().to("cpu", torch.float32)
    if how == "same":
        return t.contiguous()
    if how in ("conv2d", "conv_transpose2d"):
        return t.permute(2, 3, 1, 0).contiguous()
    h, w, c = hwc if hwc is not None else (0, 0, 0)
    n = h * w * c
    if how == "chw":
        return t.reshape(c, h, w).permute(1, 2, 0).reshape(-1).contiguous()
    if how == "linear_chw_in":
        image = t[:, :n].reshape(t.shape[0], c, h, w).permute(0, 2, 3, 1).reshape(t.shape[0], n)
        t = torch.cat([image, t[:, n:]], dim=1)
    elif how == "linear_chw_out":
        t = t.reshape(c, h, w, t.shape[1]).permute(1, 2, 0, 3).reshape(n, t.shape[1])
    elif how != "linear":
        raise ValueError(f"Unknown layout change {how!r}.")
    return t.t().contiguous()


def _from_vaekit(t: torch.Tensor, how: str, hwc, shape) -> torch.Tensor:
    """A tensor in vaekit's layout -> PyTorch's, of the given shape (the inverse of _to_vaekit)."""
    if how == "same":
        return t.reshape(shape)
    if how in ("conv2d", "conv_transpose2d"):
        return t.permute(3, 2, 0, 1).contiguous()
    h, w, c = hwc if hwc is not None else (0, 0, 0)
    n = h * w * c
    if how == "chw":
        return t.reshape(h, w, c).permute(2, 0, 1).reshape(shape).contiguous()
    t = t.t()
    if how == "linear_chw_in":
        image = t[:, :n].reshape(t.shape[0], h, w, c).permute(0, 3, 1, 2).reshape(t.shape[0], n)
        t = torch.cat([image, t[:, n:]], dim=1)
    elif how == "linear_chw_out":
        t = t.reshape(h, w, c, t.shape[1]).permute(2, 0, 1, 3).reshape(n, t.shape[1])
    return t.contiguous()


def to_vaekit_state(vae: VAE) -> Dict[str, torch.Tensor]:
    """The VAE's parameters under vaekit's names, in vaekit's layouts."""
    state = vae.state_dict()
    missing = [k for k in VAEKIT_NAMES if k not in state]
    if missing or len(state) != len(VAEKIT_NAMES):
        raise ValueError("This VAE's parameters are not the ones VAEKIT_NAMES maps: is it built from CONFIG?")
    return {VAEKIT_NAMES[k][0]: _to_vaekit(state[k], VAEKIT_NAMES[k][1], VAEKIT_NAMES[k][2]) for k in VAEKIT_NAMES}


def save_vaekit_bundle(vae: VAE, folder, training: Optional[dict] = None) -> None:
    """A vaekit model folder: config.json (CONFIG, DATA, TRAINING, or the given training record) and
    weights.safetensors in vaekit's names and layouts."""
    _check_config(vae)
    os.makedirs(folder, exist_ok=True)
    write_safetensors(to_vaekit_state(vae), os.path.join(folder, "weights.safetensors"), {"format": "vaekit", "preset": str(CONFIG["preset"])})
    bundle = {"format": "vaekit-model", "formatVersion": 1, "model": CONFIG}
    if DATA is not None:
        bundle["data"] = DATA
    bundle["training"] = dict(TRAINING if training is None else training, continuedIn="pytorch")
    temporary = os.path.join(folder, "config.json.partial")
    with open(temporary, "w", encoding="utf-8") as f:
        json.dump(bundle, f, indent=2)
        f.write("\n")
    os.replace(temporary, os.path.join(folder, "config.json"))


def load_vaekit_bundle(folder, map_location="cpu") -> VAE:
    """A VAE from a vaekit model folder of this file's CONFIG (its weights.safetensors, every name checked)."""
    with open(os.path.join(folder, "config.json"), encoding="utf-8") as f:
        model = json.load(f).get("model")
    if model != CONFIG:
        raise ValueError(f"{folder} holds a different model than this file's CONFIG.")
    tensors = read_safetensors(os.path.join(folder, "weights.safetensors"))
    vae = VAE()
    shapes = {k: v.shape for k, v in vae.state_dict().items()}
    state = {}
    for key, (name, how, hwc) in VAEKIT_NAMES.items():
        if name not in tensors:
            raise ValueError(f"{folder}/weights.safetensors has no tensor {name}.")
        state[key] = _from_vaekit(tensors[name], how, hwc, shapes[key])
    vae.load_state_dict(state, strict=True)
    return vae.to(map_location)
