"""PyTorch CPU baseline for bench/train: LoRA training steps on a Llama of given shapes.

Same work as ragtune's trainer: a frozen float32 base (random weights), LoRA (rank r, alpha 2r)
on q, k, v, o, one sequence of `seq` tokens, loss on every token, AdamW on the LoRA params only.
A plain torch module (no transformers needed): embedding, RMSNorm, rotary, grouped-query causal
attention (eager softmax), SwiGLU, tied output. Prints one JSON line.
"""
import json
import resource
import sys
import time

import torch
import torch.nn.functional as F

args = json.loads(sys.argv[1])
torch.set_num_threads(args["threads"])
torch.manual_seed(0)
h, layers, heads, kv, ffn, vocab = args["hidden"], args["layers"], args["heads"], args["kvHeads"], args["ffn"], args["vocab"]
hd = h // heads
r, seq = args["rank"], args["seq"]


class LoraLinear(torch.nn.Module):
    def __init__(self, i, o, lora):
        super().__init__()
        self.w = torch.nn.Parameter(torch.randn(o, i) / i ** 0.5, requires_grad=False)
        self.lora = lora
        if lora:
            self.a = torch.nn.Parameter(torch.randn(r, i) / i ** 0.5)
            self.b = torch.nn.Parameter(torch.zeros(o, r))

    def forward(self, x):
        y = x @ self.w.T
        if self.lora:
            y = y + (2.0 * (x @ self.a.T)) @ self.b.T
        return y


def rms(x, w):
    return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + 1e-5) * w


pos = torch.arange(seq, dtype=torch.float32)
inv = 100000.0 ** (-torch.arange(0, hd, 2, dtype=torch.float32) / hd)
ang = pos[:, None] * inv[None, :]
cos, sin = torch.cos(ang), torch.sin(ang)
causal = torch.full((seq, seq), float("-inf")).triu(1)


def rope(x):  # x [T, n, hd], interleaved pairs as llama.cpp
    x0, x1 = x[..., 0::2], x[..., 1::2]
    c, s = cos[:, None, :], sin[:, None, :]
    return torch.stack([x0 * c - x1 * s, x0 * s + x1 * c], -1).flatten(-2)


class Block(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.n1 = torch.nn.Parameter(torch.ones(h), requires_grad=False)
        self.n2 = torch.nn.Parameter(torch.ones(h), requires_grad=False)
        self.q, self.k, self.v, self.o = LoraLinear(h, h, True), LoraLinear(h, kv * hd, True), LoraLinear(h, kv * hd, True), LoraLinear(h, h, True)
        self.g, self.u, self.d = LoraLinear(h, ffn, False), LoraLinear(h, ffn, False), LoraLinear(ffn, h, False)

    def forward(self, x):
        T = x.shape[0]
        n = rms(x, self.n1)
        q = rope(self.q(n).view(T, heads, hd)).transpose(0, 1)
        k = rope(self.k(n).view(T, kv, hd)).transpose(0, 1).repeat_interleave(heads // kv, 0)
        v = self.v(n).view(T, kv, hd).transpose(0, 1).repeat_interleave(heads // kv, 0)
        # torch 1.13 (Debian) has no scaled_dot_product_attention: the eager form HF uses there.
        scores = (q @ k.transpose(1, 2)) / hd ** 0.5 + causal[:T, :T]
        a = (torch.softmax(scores, -1) @ v).transpose(0, 1).reshape(T, h)
        x = x + self.o(a)
        n = rms(x, self.n2)
        return x + self.d(F.silu(self.g(n)) * self.u(n))


emb = torch.nn.Parameter(torch.randn(vocab, h) * 0.02, requires_grad=False)
blocks = torch.nn.ModuleList([Block() for _ in range(layers)])
norm = torch.nn.Parameter(torch.ones(h), requires_grad=False)
params = [p for p in blocks.parameters() if p.requires_grad]
opt = torch.optim.AdamW(params, lr=2e-4, weight_decay=0.0)
tokens = torch.randint(0, vocab, (seq + 1,))


def step():
    x = emb[tokens[:-1]]
    for b in blocks:
        x = b(x)
    logits = rms(x, norm) @ emb.T
    loss = F.cross_entropy(logits, tokens[1:])
    opt.zero_grad()
    loss.backward()
    opt.step()
    return loss.item()


step()  # warm-up
t0 = time.perf_counter()
for _ in range(args["steps"]):
    step()
dt = time.perf_counter() - t0
print(json.dumps({"tokensPerSecond": args["steps"] * seq / dt, "seconds": dt, "peakRssBytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024, "torch": torch.__version__, "threads": torch.get_num_threads()}))
