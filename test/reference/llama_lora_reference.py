"""Independent PyTorch reference for ragtune's trainer: a Llama forward with LoRA, in float64.

Reads a JSON case (weights as the trainer holds them, dequantized; tokens; targets; segments; LoRA
pairs) and prints {"loss": sum of scored cross-entropies, "grads": {name: flat list}} computed by
autograd. Written from the Llama architecture as llama.cpp runs it (RMSNorm, interleaved "NORM"
rotary pairs, grouped-query causal attention restarting at every packed segment, SwiGLU), not from
ragtune's TypeScript, so the two implementations check each other.
"""
import json
import sys

import torch

torch.set_default_dtype(torch.float64)


def t(values, *shape):
    return torch.tensor(values, dtype=torch.float64).reshape(*shape)


def rms_norm(x, w, eps):
    return x * torch.rsqrt((x * x).mean(-1, keepdim=True) + eps) * w


def rope(x, positions, n_heads, head_dim, base):
    # x: [T, n_heads * head_dim]; pairs (2i, 2i+1) rotate by pos * base^(-2i/head_dim)
    T = x.shape[0]
    x = x.reshape(T, n_heads, head_dim // 2, 2)
    i = torch.arange(head_dim // 2, dtype=torch.float64)
    theta = positions[:, None].double() * base ** (-2 * i / head_dim)  # [T, d/2]
    cos = torch.cos(theta)[:, None, :]
    sin = torch.sin(theta)[:, None, :]
    x0, x1 = x[..., 0], x[..., 1]
    out = torch.stack([x0 * cos - x1 * sin, x0 * sin + x1 * cos], dim=-1)
    return out.reshape(T, n_heads * head_dim)


def main():
    case = json.load(open(sys.argv[1]))
    c = case["config"]
    h, heads, kv_heads, hd = c["hidden"], c["heads"], c["kvHeads"], c["headDim"]
    W = {k: t(v["values"], v["rows"], v["cols"]) for k, v in case["weights"].items()}
    V = {k: t(v, -1) for k, v in case["vectors"].items()}
    lora = {}
    params = []
    for key, p in case["lora"].items():
        a = t(p["a"], p["rank"], p["inputs"]).requires_grad_(True)
        b = t(p["b"], p["outputs"], p["rank"]).requires_grad_(True)
        lora[key] = (a, b, p["scale"])
        params += [(key + ".lora_a", a), (key + ".lora_b", b)]

    tokens = torch.tensor(case["tokens"], dtype=torch.long)
    targets = torch.tensor(case["targets"], dtype=torch.long)
    segments = case["segments"]
    T = tokens.shape[0]
    positions = torch.zeros(T, dtype=torch.long)
    seg_id = torch.zeros(T, dtype=torch.long)
    for s in range(len(segments) - 1):
        positions[segments[s]:segments[s + 1]] = torch.arange(segments[s + 1] - segments[s])
        seg_id[segments[s]:segments[s + 1]] = s
    idx = torch.arange(T)
    allowed = (seg_id[:, None] == seg_id[None, :]) & (idx[None, :] <= idx[:, None])

    def linear(name, x):
        y = x @ W[name].T
        if name in lora:
            a, b, scale = lora[name]
            y = y + scale * (x @ a.T) @ b.T
        return y

    x = W["token_embd"][tokens]
    group = heads // kv_heads
    for layer in range(c["layers"]):
        p = "blk.%d." % layer
        n1 = rms_norm(x, V[p + "attn_norm"], c["eps"])
        q = rope(linear(p + "attn_q", n1), positions, heads, hd, c["ropeBase"]).reshape(T, heads, hd)
        k = rope(linear(p + "attn_k", n1), positions, kv_heads, hd, c["ropeBase"]).reshape(T, kv_heads, hd)
        v = linear(p + "attn_v", n1).reshape(T, kv_heads, hd)
        k = k.repeat_interleave(group, dim=1)
        v = v.repeat_interleave(group, dim=1)
        scores = torch.einsum("thd,shd->hts", q, k) / hd ** 0.5
        scores = scores.masked_fill(~allowed[None], float("-inf"))
        att = torch.einsum("hts,shd->thd", torch.softmax(scores, -1), v).reshape(T, h)
        x = x + linear(p + "attn_output", att)
        n2 = rms_norm(x, V[p + "ffn_norm"], c["eps"])
        x = x + linear(p + "ffn_down", torch.nn.functional.silu(linear(p + "ffn_gate", n2)) * linear(p + "ffn_up", n2))
    logits = rms_norm(x, V["output_norm"], c["eps"]) @ W["output"].T
    scored = targets >= 0
    loss = torch.nn.functional.cross_entropy(logits[scored], targets[scored], reduction="sum")
    loss.backward()
    json.dump({"loss": loss.item(), "grads": {n: p.grad.reshape(-1).tolist() for n, p in params}}, sys.stdout)


if __name__ == "__main__":
    main()
