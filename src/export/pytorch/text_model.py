"""A text VAE (or a recurrent language model) trained with vaekit, as a plain PyTorch module.

Written by vaekit's PyTorch export with model.safetensors (the weights) and vocab.json (the
vocabulary). Needs Python 3.9+ and torch >= 1.13, nothing from vaekit; it uses the safetensors
package when installed and otherwise reads and writes the file itself.

    import sys; sys.path.insert(0, 'EXPORT_FOLDER')
    import model
    vae = model.load()                          # or model.load(folder, map_location='cuda')
    vocabulary = model.load_vocabulary()
    tokens = model.batch([model.ids_of(["the", "cat", "sat"], vocabulary)])   # int64 [N, T]
    mean, logvar = vae.encode(tokens)           # (add label=... for a conditional model)
    ids = vae.generate(mean)                    # greedy decoding: a list of token-id lists
    print(model.tokens_of(ids[0], vocabulary))

    optimizer = torch.optim.Adam(vae.parameters(), lr=1e-3)
    loss = vae.negative_elbo(tokens)            # vaekit's training objective, nats per sentence
    optimizer.zero_grad(); loss.backward(); optimizer.step()
    model.save(vae, 'trained')                  # model.py, model.safetensors and vocab.json again
    model.save_vaekit_bundle(vae, 'trained-vaekit')   # a model folder vaekit loads

__VAEKIT_IO_DESCRIPTION__

Tokens. A sentence is a row of token ids (vocab.json's "tokens" lists them by id): words from 4 up,
<unk> (1) for a token not in the vocabulary, and <pad> (0) after the sentence's last token. <bos>
(2) and <eos> (3) are the model's own: never put them in a sentence. A row's length is the index of
its first <pad> (the row's width when it has none). Splitting text into tokens is vaekit's
tokenizer, named in vocab.json's "tokenizer" (README.md has the word and char rules in a few lines
of JavaScript); ids_of and tokens_of below map tokens to ids and back.

The model (CONFIG's fields in brackets):
    encoder  enc_embed: nn.Embedding(vocab, embedding, padding_idx=0) -> enc_rnn: nn.LSTM/nn.GRU
             (encoderHidden, batch_first, bidirectional), run over each sentence's real tokens
             (packed sequences) -> its final state (both directions', forward first) [+ one-hot label]
             -> enc_out: nn.Linear -> (mean, logvar), each [N, latent]
    decoder  cond = [z; one-hot label]; dec_init: nn.Linear(cond) -> pre; LSTM: c0 = pre,
             h0 = tanh(pre); GRU: h0 = tanh(pre) (zeros when cond is empty: an unconditional
             language model); at each step the input is [dec_embed(previous token); cond], the
             previous token being <bos> first, then the sentence's tokens; dec_rnn: nn.LSTM/nn.GRU
             (decoderHidden) -> dec_out: nn.Linear -> logits over the vocabulary for the next token
             (the sentence's tokens, then <eos>)
    loss     per sentence, the sum over its tokens and <eos> of the cross-entropy, plus beta * KL(q(z|x)
             || N(0, I)) (with free bits lambda > 0: sum_d max(lambda, KL_d), KL_d dimension d's
             batch-mean KL); the batch mean. While training (vae.train()), word dropout replaces
             each decoder input token (never <bos>) by <unk> with probability OBJECTIVE["wordDropout"].

CONFIG is the model's vaekit config (config.json's "model"), DATA its data description (the
vocabulary is in vocab.json instead), TRAINING how it was trained (informational); OBJECTIVE holds
the beta, free bits and word dropout the training objective uses.

Weights: model.safetensors holds the module's state_dict (nn.Linear weights [out, in], PyTorch's
LSTM/GRU parameters as they are: vaekit keeps PyTorch's gate order and two biases). VAEKIT_NAMES
maps each key to its vaekit name and layout change, and save_vaekit_bundle() writes a vaekit model
folder (config.json + weights.safetensors) that vaekit's commands load.
"""
import array
import json
import os
import shutil
import struct
import sys
from typing import Dict, List, Optional, Sequence, Tuple

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

CONFIG = __VAEKIT_CONFIG__

DATA = __VAEKIT_DATA__

TRAINING = __VAEKIT_TRAINING__

# The training objective's settings (from TRAINING; beta 1, no free bits and no word dropout when it has none).
OBJECTIVE = {"beta": __VAEKIT_BETA__, "freeBits": __VAEKIT_FREE_BITS__, "wordDropout": __VAEKIT_WORD_DROPOUT__}

# state_dict key -> (vaekit name, layout change): "same", or "linear" (vaekit's Dense kernel is
# [in, out], the transpose of nn.Linear's weight).
VAEKIT_NAMES = __VAEKIT_NAMES__

WEIGHTS_FILE = __VAEKIT_WEIGHTS_FILE__
VOCAB_FILE = __VAEKIT_VOCAB_FILE__
PAD, UNK, BOS, EOS = 0, 1, 2, 3
_HERE = os.path.dirname(os.path.abspath(__file__))


def lengths_of(tokens: torch.Tensor) -> torch.Tensor:
    """Each row's length [N]: the index of its first <pad> (0), or its width when it has none."""
    return (tokens != PAD).long().cumprod(1).sum(1)


def _one_hot(label, classes: int, n: int, like: torch.Tensor) -> torch.Tensor:
    """label (class indices, int64 [n]) as one-hot rows [n, classes] of like's dtype and device."""
    if label is None:
        raise ValueError(f"This is a conditional model: pass label, the class index (0 to {classes - 1}) of each sentence, as an int64 tensor [N].")
    label = torch.as_tensor(label, device=like.device)
    if label.dim() != 1 or label.shape[0] != n:
        raise ValueError(f"label must hold one class index per sentence, shape [{n}], not {list(label.shape)}.")
    return F.one_hot(label.long(), classes).to(like.dtype)


class TextVAE(nn.Module):
    """vaekit's text VAE (latent > 0) or language model (latent 0); see the module's docstring."""

    def __init__(self, config=CONFIG, objective=OBJECTIVE):
        super().__init__()
        self.config = config
        vocab, embedding, hidden = config["vocab"], config["embedding"], config["decoderHidden"]
        self.vocab = vocab
        self.latent = config["latent"]
        self.classes = config["classes"]
        self.max_length = config["maxLength"]
        self.lstm = config["cell"] == "lstm"
        rnn = nn.LSTM if self.lstm else nn.GRU
        if self.latent > 0:
            directions = 2 if config["bidirectional"] else 1
            self.enc_embed = nn.Embedding(vocab, embedding, padding_idx=PAD)
            self.enc_rnn = rnn(embedding, config["encoderHidden"], batch_first=True, bidirectional=config["bidirectional"])
            self.enc_out = nn.Linear(directions * config["encoderHidden"] + self.classes, 2 * self.latent)
        cond = self.latent + self.classes
        self.dec_init = nn.Linear(cond, hidden) if cond > 0 else None
        self.dec_embed = nn.Embedding(vocab, embedding, padding_idx=PAD)
        self.dec_rnn = rnn(embedding + cond, hidden, batch_first=True)
        self.dec_out = nn.Linear(hidden, vocab)
        self.beta = float(objective.get("beta", 1.0))
        self.free_bits = float(objective.get("freeBits", 0.0))
        self.word_dropout = float(objective.get("wordDropout", 0.0))

    def _device(self) -> torch.device:
        return self.dec_out.weight.device

    def _tokens(self, tokens, lengths) -> Tuple[torch.Tensor, torch.Tensor]:
        tokens = torch.as_tensor(tokens, device=self._device()).long()
        if tokens.dim() != 2:
            raise ValueError(f"tokens must be a batch of sentences [N, T], not of shape {list(tokens.shape)}.")
        lengths = lengths_of(tokens) if lengths is None else torch.as_tensor(lengths, device=tokens.device).long()
        if bool((lengths < 1).any()) or bool((lengths > tokens.shape[1]).any()):
            raise ValueError("Every sentence needs from 1 to T tokens.")
        return tokens, lengths

    def encode(self, tokens, lengths=None, label=None) -> Tuple[torch.Tensor, torch.Tensor]:
        """The posterior q(z | x) of each sentence: (mean, logvar), each [N, latent]."""
        if self.latent == 0:
            raise ValueError("A language model (latent 0) has no encoder.")
        tokens, lengths = self._tokens(tokens, lengths)
        packed = pack_padded_sequence(self.enc_embed(tokens), lengths.cpu(), batch_first=True, enforce_sorted=False)
        _, state = self.enc_rnn(packed)
        final = state[0] if self.lstm else state  # [directions, N, H]
        feature = final.transpose(0, 1).reshape(tokens.shape[0], -1)
        if self.classes:
            feature = torch.cat([feature, _one_hot(label, self.classes, tokens.shape[0], feature)], dim=1)
        out = self.enc_out(feature)
        return out[:, : self.latent], out[:, self.latent :]

    def condition(self, z, label, n: int) -> Optional[torch.Tensor]:
        """cond = [z; one-hot label] [n, latent + classes], or None for an unconditional language model."""
        parts = []
        if self.latent:
            if z is None:
                raise ValueError("Pass z, latent vectors [N, latent].")
            parts.append(torch.as_tensor(z, device=self._device(), dtype=self.dec_out.weight.dtype))
        if self.classes:
            parts.append(_one_hot(label, self.classes, n, self.dec_out.weight))
        return torch.cat(parts, dim=1) if parts else None

    def initial_state(self, cond: Optional[torch.Tensor], n: int):
        """The decoder's first state: h0 [1, n, H] (and c0 for an LSTM), as nn.LSTM/nn.GRU take it."""
        if cond is None:
            h = torch.zeros(1, n, self.dec_out.in_features, device=self._device())
            return (h, torch.zeros_like(h)) if self.lstm else h
        pre = self.dec_init(cond)
        h = torch.tanh(pre)[None]
        return (h, pre[None].contiguous()) if self.lstm else h

    def decode_logits(self, inputs: torch.Tensor, lengths: torch.Tensor, cond: Optional[torch.Tensor]) -> torch.Tensor:
        """Teacher-forced logits [N, T + 1, vocab]: step t reads <bos> (t = 0) or inputs[:, t - 1] and
        predicts the next token; only the first lengths + 1 steps of a row are real (0 after)."""
        n, width = inputs.shape
        steps = torch.cat([torch.full((n, 1), BOS, dtype=torch.long, device=inputs.device), inputs], dim=1)
        x = self.dec_embed(steps)
        if cond is not None:
            x = torch.cat([x, cond[:, None, :].expand(-1, width + 1, -1)], dim=2)
        packed = pack_padded_sequence(x, (lengths + 1).cpu(), batch_first=True, enforce_sorted=False)
        out, _ = self.dec_rnn(packed, self.initial_state(cond, n))
        out, _ = pad_packed_sequence(out, batch_first=True, total_length=width + 1)
        return self.dec_out(out)

    def token_nll(self, tokens, lengths=None, z=None, label=None, word_dropout: float = 0.0) -> torch.Tensor:
        """-log p(sentence | z) per sentence [N], in nats: the sum over its tokens and <eos>."""
        tokens, lengths = self._tokens(tokens, lengths)
        n, width = tokens.shape
        positions = torch.arange(width + 1, device=tokens.device)[None, :]
        real = positions[:, :width] < lengths[:, None]
        inputs = tokens
        if word_dropout > 0:
            dropped = (torch.rand(tokens.shape, device=tokens.device) < word_dropout) & real
            inputs = torch.where(dropped, torch.full_like(tokens, UNK), tokens)
        logits = self.decode_logits(inputs, lengths, self.condition(z, label, n))
        targets = torch.cat([torch.where(real, tokens, torch.zeros_like(tokens)), torch.zeros_like(tokens[:, :1])], dim=1)
        targets = targets.scatter(1, lengths[:, None], EOS)
        nll = F.cross_entropy(logits.reshape(-1, self.vocab), targets.reshape(-1), reduction="none").reshape(n, width + 1)
        return (nll * (positions <= lengths[:, None]).to(nll.dtype)).sum(1)

    def negative_elbo(self, tokens, lengths=None, label=None, eps=None, beta=None, free_bits=None, word_dropout=None, reduction="mean"):
        """vaekit's training objective, nats per sentence: -log p(sentence | z) + beta * KL(q(z | x) || N(0, I)),
        z = mean + exp(logvar / 2) * eps with eps ~ N(0, I) [N, latent] unless given (zeros: the
        posterior mean). beta, free_bits and word_dropout default to OBJECTIVE's (word dropout only
        while training). reduction "mean": the batch mean (what vaekit minimises), "none": each
        sentence's [N] (no free bits). A language model's loss is the token NLL alone."""
        beta = self.beta if beta is None else float(beta)
        free_bits = self.free_bits if free_bits is None else float(free_bits)
        if word_dropout is None:
            word_dropout = self.word_dropout if self.training else 0.0
        tokens, lengths = self._tokens(tokens, lengths)
        z = None
        kl = None
        if self.latent:
            mean, logvar = self.encode(tokens, lengths, label)
            if eps is None:
                eps = torch.randn_like(mean)
            z = mean + torch.exp(0.5 * logvar) * torch.as_tensor(eps, device=mean.device, dtype=mean.dtype)
            kl = 0.5 * (mean * mean + torch.exp(logvar) - 1 - logvar)  # [N, latent]
        recon = self.token_nll(tokens, lengths, z, label, word_dropout)
        if reduction == "none":
            if free_bits > 0:
                raise ValueError("Free bits apply to a batch's mean KL per dimension: use reduction='mean'.")
            return recon if kl is None else recon + beta * kl.sum(1)
        if reduction != "mean":
            raise ValueError(f"reduction must be 'mean' or 'none', not {reduction!r}.")
        if kl is None:
            return recon.mean()
        term = kl.sum(1).mean() if free_bits <= 0 else torch.clamp(kl.mean(0), min=free_bits).sum()
        return recon.mean() + beta * term

    def forward(self, tokens, lengths=None, label=None):
        """The posterior means of the sentences (a language model: their token NLL)."""
        if self.latent == 0:
            return self.token_nll(tokens, lengths, None, label)
        return self.encode(tokens, lengths, label)[0]

    @torch.no_grad()
    def generate(self, z=None, label=None, n: Optional[int] = None, max_length: Optional[int] = None,
                 sample: bool = False, temperature: float = 1.0) -> List[List[int]]:
        """Sentences as lists of token ids (no <bos> or <eos>), each ending at <eos> or max_length
        tokens (default CONFIG's maxLength). z [N, latent] conditions the decoder (None: drawn from
        N(0, I); n sentences, or one per label). Greedy (vaekit's default: the largest logit, the
        first of equals) unless sample, which draws at temperature. <pad> and <bos> are never chosen."""
        max_length = self.max_length if max_length is None else int(max_length)
        if self.latent and z is None:
            count = n if n is not None else (len(label) if label is not None else 1)
            z = torch.randn(count, self.latent, device=self._device())
        count = z.shape[0] if z is not None else (len(label) if label is not None else (n or 1))
        cond = self.condition(z, label, count)
        state = self.initial_state(cond, count)
        previous = torch.full((count,), BOS, dtype=torch.long, device=self._device())
        out: List[List[int]] = [[] for _ in range(count)]
        done = [False] * count
        for _ in range(max_length):
            x = self.dec_embed(previous)[:, None, :]
            if cond is not None:
                x = torch.cat([x, cond[:, None, :]], dim=2)
            y, state = self.dec_rnn(x, state)
            logits = self.dec_out(y[:, 0])
            logits[:, PAD] = -float("inf")
            logits[:, BOS] = -float("inf")
            if sample:
                token = torch.multinomial(torch.softmax(logits / temperature, dim=1), 1)[:, 0]
            else:
                token = torch.argmax(logits, dim=1)
            for r in range(count):
                if done[r]:
                    continue
                t = int(token[r])
                if t == EOS:
                    done[r] = True
                    continue
                out[r].append(t)
                if len(out[r]) == max_length:
                    done[r] = True
            previous = token
            if all(done):
                break
        return out


# ---- the vocabulary --------------------------------------------------------------------------


def load_vocabulary(folder=None) -> dict:
    """vocab.json: {"tokenizer": {...}, "tokens": [...]}, the tokens by id (special ones first)."""
    with open(os.path.join(_HERE if folder is None else folder, VOCAB_FILE), encoding="utf-8") as f:
        return json.load(f)


def ids_of(tokens: Sequence[str], vocabulary: dict) -> List[int]:
    """The ids of tokens already split by vaekit's tokenizer (<unk>, 1, for a token not in the vocabulary)."""
    index = vocabulary.get("_index")
    if index is None:
        index = {t: i for i, t in enumerate(vocabulary["tokens"])}
        vocabulary["_index"] = index
    return [index.get(t, UNK) for t in tokens]


def tokens_of(ids: Sequence[int], vocabulary: dict) -> List[str]:
    """The tokens of ids, up to the first <eos>, without <pad> and <bos>."""
    out = []
    for i in ids:
        if i == EOS:
            break
        if i not in (PAD, BOS):
            out.append(vocabulary["tokens"][i])
    return out


def batch(sentences: Sequence[Sequence[int]], max_length: Optional[int] = None) -> torch.Tensor:
    """Sentences of token ids as one int64 tensor [N, T], <pad> after each, each cut to max_length (CONFIG's maxLength)."""
    max_length = CONFIG["maxLength"] if max_length is None else max_length
    rows = [list(s)[:max_length] for s in sentences]
    width = max(1, max(len(r) for r in rows))
    out = torch.zeros(len(rows), width, dtype=torch.long)
    for i, r in enumerate(rows):
        out[i, : len(r)] = torch.tensor(r, dtype=torch.long)
    return out


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


def load(folder=None, map_location="cpu") -> TextVAE:
    """The model with the weights of folder/model.safetensors (default: this file's folder), every key checked."""
    folder = _HERE if folder is None else folder
    vae = TextVAE()
    vae.load_state_dict(read_safetensors(os.path.join(folder, WEIGHTS_FILE)), strict=True)
    return vae.to(map_location)


def _check_config(vae: TextVAE) -> None:
    if vae.config != CONFIG:
        raise ValueError("This model's config is not this file's CONFIG: save it with a model.py whose CONFIG is its config.")


def save(vae: TextVAE, folder) -> None:
    """folder/model.safetensors (the state_dict), and copies of this file and vocab.json: the export's format again."""
    _check_config(vae)
    os.makedirs(folder, exist_ok=True)
    write_safetensors(vae.state_dict(), os.path.join(folder, WEIGHTS_FILE), {"format": "pt", "source": "vaekit-export"})
    for name in (os.path.basename(__file__), VOCAB_FILE):
        source, target = os.path.join(_HERE, name), os.path.join(folder, name)
        if not (os.path.exists(target) and os.path.samefile(target, source)):
            shutil.copyfile(source, target)


def to_vaekit_state(vae: TextVAE) -> Dict[str, torch.Tensor]:
    """The parameters under vaekit's names, in vaekit's layouts."""
    state = vae.state_dict()
    if sorted(state) != sorted(VAEKIT_NAMES):
        raise ValueError("This model's parameters are not the ones VAEKIT_NAMES maps: is it built from CONFIG?")
    out = {}
    for key, (name, how) in VAEKIT_NAMES.items():
        t = state[key].detach().to("cpu", torch.float32)
        out[name] = (t.t() if how == "linear" else t).contiguous()
    return out


def save_vaekit_bundle(vae: TextVAE, folder) -> None:
    """A vaekit model folder: config.json (CONFIG, DATA with vocab.json's vocabulary, TRAINING) and weights.safetensors."""
    _check_config(vae)
    os.makedirs(folder, exist_ok=True)
    write_safetensors(to_vaekit_state(vae), os.path.join(folder, "weights.safetensors"), {"format": "vaekit", "preset": str(CONFIG["preset"])})
    vocabulary = {k: v for k, v in load_vocabulary().items() if not k.startswith("_")}
    data = dict(DATA or {"shape": [CONFIG["maxLength"]], "classNames": None, "standardization": None, "source": "unknown"})
    data["text"] = {"vocabulary": vocabulary}
    bundle = {"format": "vaekit-model", "formatVersion": 1, "model": CONFIG, "data": data, "training": dict(TRAINING, continuedIn="pytorch")}
    temporary = os.path.join(folder, "config.json.partial")
    with open(temporary, "w", encoding="utf-8") as f:
        json.dump(bundle, f, indent=2)
        f.write("\n")
    os.replace(temporary, os.path.join(folder, "config.json"))
