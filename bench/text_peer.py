# The same text VAE step in PyTorch (Debian's python3-torch), the peer vaekit's text training
# speed is compared with: tokens per second of training on the same sentences, batches and threads.
# Model (vaekit's text preset, src/vae/text/model.ts): embedding E -> LSTM H (encoder, final state)
# -> Linear 2L; z -> Linear H (c0; h0 = tanh(c0)); decoder LSTM over [embed(y_{t-1}); z] -> Linear V,
# softmax cross-entropy summed over each sentence's tokens and <eos>, + KL; Adam.
# Run: python3 bench/text_peer.py FILE.ids THREADS STEPS BATCH [E H L]
#   FILE.ids: one sentence per line as space-separated token ids (>= 4), in batch order
#   (bench/text-speed.ts writes it from the same bucketed order vaekit trains on).
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

path, threads, steps, batch = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
E, H, L = (int(x) for x in sys.argv[5:8]) if len(sys.argv) >= 8 else (256, 256, 32)
torch.set_num_threads(threads)
torch.manual_seed(0)
lines = [[int(t) for t in line.split()] for line in open(path) if line.strip()]
V = max(max(s) for s in lines) + 1
PAD, BOS, EOS = 0, 2, 3


class TextVae(nn.Module):
    def __init__(self):
        super().__init__()
        self.enc_embed = nn.Embedding(V, E, padding_idx=PAD)
        self.enc_rnn = nn.LSTM(E, H, batch_first=True)
        self.enc_out = nn.Linear(H, 2 * L)
        self.dec_init = nn.Linear(L, H)
        self.dec_embed = nn.Embedding(V, E, padding_idx=PAD)
        self.dec_rnn = nn.LSTM(E + L, H, batch_first=True)
        self.dec_out = nn.Linear(H, V)

    def forward(self, ids, lengths):
        x = self.enc_embed(ids)
        packed = nn.utils.rnn.pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False)
        _, (h, _) = self.enc_rnn(packed)
        mean, logvar = self.enc_out(h[0]).chunk(2, dim=-1)
        z = mean + torch.exp(0.5 * logvar) * torch.randn_like(mean)
        c0 = self.dec_init(z)
        h0 = torch.tanh(c0)
        dec_in = torch.cat([torch.full((ids.shape[0], 1), BOS, dtype=ids.dtype), ids], dim=1)
        y = self.dec_embed(dec_in)
        y = torch.cat([y, z.unsqueeze(1).expand(-1, y.shape[1], -1)], dim=-1)
        packed = nn.utils.rnn.pack_padded_sequence(y, lengths + 1, batch_first=True, enforce_sorted=False)
        out, _ = self.dec_rnn(packed, (h0.unsqueeze(0), c0.unsqueeze(0)))
        out, _ = nn.utils.rnn.pad_packed_sequence(out, batch_first=True)
        targets = torch.cat([ids, torch.zeros((ids.shape[0], 1), dtype=ids.dtype)], dim=1)
        targets[torch.arange(ids.shape[0]), lengths] = EOS
        mask = torch.arange(targets.shape[1]).unsqueeze(0) <= lengths.unsqueeze(1)
        logits = self.dec_out(out[mask])
        recon = F.cross_entropy(logits, targets[:, : out.shape[1]][mask], reduction='sum') / ids.shape[0]
        kl = (-0.5 * (1 + logvar - mean ** 2 - logvar.exp()).sum(-1)).mean()
        return recon + kl


model = TextVae()
opt = torch.optim.Adam(model.parameters(), lr=1e-3)


def batch_at(i):
    rows = lines[i * batch:(i + 1) * batch]
    lengths = torch.tensor([len(r) for r in rows])
    ids = torch.zeros((len(rows), int(lengths.max())), dtype=torch.long)
    for r, row in enumerate(rows):
        ids[r, : len(row)] = torch.tensor(row)
    return ids, lengths


batches = [batch_at(i) for i in range(steps + 2)]
for ids, lengths in batches[:2]:  # warm-up
    opt.zero_grad()
    model(ids, lengths).backward()
    opt.step()
tokens = 0
start = time.perf_counter()
for ids, lengths in batches[2:]:
    opt.zero_grad()
    model(ids, lengths).backward()
    opt.step()
    tokens += int(lengths.sum()) + len(lengths)
seconds = time.perf_counter() - start
print(f'pytorch {torch.__version__}, {threads} threads, vocab {V}, batch {batch}, {steps} steps: {1000 * seconds / steps:.1f} ms/step, {tokens / seconds:.0f} tokens/s')
