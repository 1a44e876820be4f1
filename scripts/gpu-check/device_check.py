#!/usr/bin/env python3
"""The device half of ragtune's GPU check (see README.md): one subcommand per step of device.sh.

  env      GPU, CUDA and package versions; whether bitsandbytes (NF4) imports
  base     the exported HF model and tokenizer against llama.cpp's numbers computed by prepare.ts:
           token ids, chat template, the GPU job's answer masking, fp32 logits on CPU and CUDA
  train    job-script.py on the payload dataset: one uninterrupted run, then a run SIGKILLed right
           after its first checkpoint and resumed; events, wall time, tokens/s, final loss
  adapter  logits of base + trained adapter (peft, fp32) for the fixed sequences; the adapter files
  finalize merges steps.jsonl into summary.json

Every step merges its results into OUT/summary.json under its own key as soon as it has them, so a
step that crashes or times out still leaves what it measured. Only `base` and `adapter --engine hf`
need transformers and peft; the rest (safetensors I/O, a plain-torch Llama reference, the job
orchestration) runs with torch alone, which is how it is tested on machines without transformers.
"""
import argparse
import json
import math
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", ".."))
JOB_SCRIPT = os.path.join(REPO, "src", "train", "python", "job-script.py")
SAFETENSORS_DTYPES = {"F32": "float32", "F16": "float16", "BF16": "bfloat16", "F64": "float64"}


# ---------------------------------------------------------------- small utilities

def log(msg):
    print(f"[device_check {time.strftime('%H:%M:%S')}] {msg}", flush=True)


def read_json(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def write_json(path, value):
    tmp = f"{path}.tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(value, f, indent=2, default=str)
        f.write("\n")
    os.replace(tmp, path)


def update_summary(out, key, value):
    """Merges one step's results into OUT/summary.json (read, set key, atomic write)."""
    path = os.path.join(out, "summary.json")
    summary = read_json(path) if os.path.exists(path) else {}
    summary[key] = value
    write_json(path, summary)


def error_info(e):
    return {"error": f"{type(e).__name__}: {e}", "traceback": traceback.format_exc()[-3000:]}


def guarded(out, key, part, fn):
    """Runs fn(part) and records part (with the error, if any) under `key`; returns False on failure."""
    try:
        fn(part)
        part["ok"] = part.get("ok", True)
        return part["ok"]
    except Exception as e:  # keep going: the next measurement may still work
        traceback.print_exc()
        part.update(error_info(e), ok=False)
        return False
    finally:
        update_summary(out, key, part)


# ---------------------------------------------------------------- safetensors without the library

def read_safetensors(path):
    """name -> float32 torch tensor (F32/F16/BF16/F64 accepted)."""
    import numpy as np
    import torch
    with open(path, "rb") as f:
        data = f.read()
    n = int.from_bytes(data[:8], "little")
    header = json.loads(data[8:8 + n])
    base = 8 + n
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        a, b = info["data_offsets"]
        raw = bytearray(data[base + a: base + b])
        if info["dtype"] == "BF16":
            t = ((torch.frombuffer(raw, dtype=torch.int16).to(torch.int32) << 16).view(torch.float32)) if raw else torch.empty(0)
        else:
            t = torch.from_numpy(np.frombuffer(raw, dtype=SAFETENSORS_DTYPES[info["dtype"]]).copy())
        out[name] = t.reshape(info["shape"]).float()
    return out


def safetensors_dtypes(path):
    with open(path, "rb") as f:
        header = json.loads(f.read(int.from_bytes(f.read(8), "little")))
    return sorted({v["dtype"] for k, v in header.items() if k != "__metadata__"})


def write_safetensors(path, tensors):
    """Writes float32 tensors (in the given order) in the safetensors format."""
    import numpy as np
    header, blobs, offset = {}, [], 0
    for name, t in tensors.items():
        a = np.ascontiguousarray(t.detach().to("cpu").float().numpy(), dtype="<f4")
        blob = a.tobytes()
        header[name] = {"dtype": "F32", "shape": list(a.shape), "data_offsets": [offset, offset + len(blob)]}
        blobs.append(blob)
        offset += len(blob)
    head = json.dumps(header).encode("utf-8")
    head += b" " * ((8 - len(head) % 8) % 8)
    with open(path, "wb") as f:
        f.write(len(head).to_bytes(8, "little"))
        f.write(head)
        for blob in blobs:
            f.write(blob)


# ---------------------------------------------------------------- a plain-torch Llama (HF layout), the reference

def rope_theta(cfg):
    params = cfg.get("rope_parameters") or {}
    return float(params.get("rope_theta", cfg.get("rope_theta", 10000.0)))


def lora_deltas(adapter_dir, dtype):
    """{'model.layers.0.self_attn.q_proj': scale * B @ A} from a PEFT folder (plain LoRA only)."""
    import torch
    cfg = read_json(os.path.join(adapter_dir, "adapter_config.json"))
    r, alpha = cfg["r"], cfg["lora_alpha"]
    scale = alpha / math.sqrt(r) if cfg.get("use_rslora") else alpha / r
    tensors = read_safetensors(os.path.join(adapter_dir, "adapter_model.safetensors"))
    pairs = {}
    for name, t in tensors.items():
        key = name.replace("base_model.model.", "", 1).replace(".default", "")
        module, part = key.rsplit(".lora_", 1)
        pairs.setdefault(module, {})[part.split(".")[0]] = t.to(dtype)
    return {m: scale * (p["B"] @ p["A"]) for m, p in pairs.items()}, {"r": r, "alpha": alpha, "scale": scale, "modules": len(pairs)}


def reference_logits(cfg, weights, ids, deltas=None, dtype=None):
    """Logits [T, vocab] of a LlamaForCausalLM computed by hand (rotate-half rope, GQA, SwiGLU, RMSNorm)."""
    import torch
    dtype = dtype or torch.float64
    W = {k: v.to(dtype) for k, v in weights.items()}
    for m, d in (deltas or {}).items():
        W[f"{m}.weight"] = W[f"{m}.weight"] + d
    H, nh = cfg["hidden_size"], cfg["num_attention_heads"]
    nkv = cfg.get("num_key_value_heads") or nh
    hd = cfg.get("head_dim") or H // nh
    eps = cfg["rms_norm_eps"]
    T = len(ids)
    x = W["model.embed_tokens.weight"][torch.tensor(ids)]
    inv = 1.0 / (rope_theta(cfg) ** (torch.arange(0, hd, 2, dtype=dtype) / hd))
    freqs = torch.outer(torch.arange(T, dtype=dtype), inv)
    cos, sin = torch.cat([freqs, freqs], -1).cos(), torch.cat([freqs, freqs], -1).sin()

    def rms(v, w):
        return v * torch.rsqrt(v.pow(2).mean(-1, keepdim=True) + eps) * w

    def rot(v):  # rotate_half
        return torch.cat([-v[..., hd // 2:], v[..., : hd // 2]], -1)

    mask = torch.full((T, T), float("-inf"), dtype=dtype).triu(1)
    for layer in range(cfg["num_hidden_layers"]):
        p = f"model.layers.{layer}."
        h = rms(x, W[p + "input_layernorm.weight"])
        q = (h @ W[p + "self_attn.q_proj.weight"].T).view(T, nh, hd).transpose(0, 1)
        k = (h @ W[p + "self_attn.k_proj.weight"].T).view(T, nkv, hd).transpose(0, 1)
        v = (h @ W[p + "self_attn.v_proj.weight"].T).view(T, nkv, hd).transpose(0, 1)
        q, k = q * cos + rot(q) * sin, k * cos + rot(k) * sin
        k, v = k.repeat_interleave(nh // nkv, 0), v.repeat_interleave(nh // nkv, 0)
        att = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(hd) + mask, -1)
        x = x + (att @ v).transpose(0, 1).reshape(T, nh * hd) @ W[p + "self_attn.o_proj.weight"].T
        h = rms(x, W[p + "post_attention_layernorm.weight"])
        g = h @ W[p + "mlp.gate_proj.weight"].T
        x = x + (torch.nn.functional.silu(g) * (h @ W[p + "mlp.up_proj.weight"].T)) @ W[p + "mlp.down_proj.weight"].T
    x = rms(x, W["model.norm.weight"])
    out = W["lm_head.weight"] if "lm_head.weight" in W else W["model.embed_tokens.weight"]
    return x @ out.T


def compare(ref, other):
    """max |Δ|, the reference's std, their ratio and greedy-token agreement of two [T, V] logit tensors."""
    ref, other = ref.double().cpu(), other.double().cpu()
    diff = (ref - other).abs().max().item()
    std = ref.std().item()
    agree = int((ref.argmax(-1) == other.argmax(-1)).sum().item())
    return {"tokens": ref.shape[0], "maxAbsDiff": diff, "refStd": std, "relMaxDiff": diff / std if std else None, "argmaxAgree": agree}


def worst(per_seq):
    vals = [c["relMaxDiff"] for c in per_seq.values() if c.get("relMaxDiff") is not None]
    return max(vals) if vals else None


class Payload:
    def __init__(self, root):
        self.root = os.path.abspath(root)
        self.manifest = read_json(self.path("manifest.json"))
        self.hf = self.path("hf-base")
        self.sequences = read_json(self.path("sequences.json"))

    def path(self, *parts):
        return os.path.join(self.root, *parts)

    def hf_config(self):
        return read_json(os.path.join(self.hf, "config.json"))

    def hf_weights(self):
        return read_safetensors(os.path.join(self.hf, "model.safetensors"))

    def ref_logits(self):
        return read_safetensors(self.path("ref-logits.safetensors"))


def strict_fp32():
    """No TF32 in fp32 matmuls, so CUDA fp32 logits are comparable with the CPU's."""
    import torch
    for setter in (lambda: setattr(torch.backends.cuda.matmul, "fp32_precision", "ieee"),
                   lambda: setattr(torch.backends.cudnn, "fp32_precision", "ieee")):
        try:
            setter()
        except Exception:
            pass
    try:
        torch.backends.cuda.matmul.allow_tf32 = False
        torch.backends.cudnn.allow_tf32 = False
    except Exception:
        pass


# ---------------------------------------------------------------- steps

def cmd_env(a):
    part = {}

    def run(p):
        p["python"] = sys.version.split()[0]
        p["executable"] = sys.executable
        versions = {}
        for name in ("torch", "transformers", "peft", "accelerate", "safetensors", "tokenizers", "numpy", "bitsandbytes"):
            try:
                mod = __import__(name)
                versions[name] = getattr(mod, "__version__", "?")
            except Exception as e:  # bitsandbytes raises more than ImportError without its CUDA library
                versions[name] = None
                p.setdefault("importErrors", {})[name] = f"{type(e).__name__}: {e}"[:300]
        p["versions"] = versions
        import torch
        p["cuda"] = {"available": torch.cuda.is_available(), "torchCuda": torch.version.cuda}
        if torch.cuda.is_available():
            props = torch.cuda.get_device_properties(0)
            p["cuda"].update(name=torch.cuda.get_device_name(0), memoryGiB=round(props.total_memory / 2 ** 30, 1),
                             capability=f"{props.major}.{props.minor}", bf16=torch.cuda.is_bf16_supported(), devices=torch.cuda.device_count())
        p["nf4Testable"] = versions.get("bitsandbytes") is not None and torch.cuda.is_available()
        log(json.dumps(p))

    return guarded(a.out, "env", part, run)


def cmd_base(a):
    payload = Payload(a.payload)
    part = {"refLogits": "llama.cpp (node-llama-cpp, CPU, f32 KV cache, no flash attention) on " + payload.manifest.get("baseGguf", "?")}

    def export_check(p):
        # The export itself, with torch only: hand-written Llama on the exported weights vs llama.cpp.
        cfg, weights, ref = payload.hf_config(), payload.hf_weights(), payload.ref_logits()
        p["exportVsLlamaCpp"] = {s["name"]: compare(ref[f"base.{s['name']}"], reference_logits(cfg, weights, s["ids"]).float()) for s in payload.sequences}
        p["exportWorstRel"] = worst(p["exportVsLlamaCpp"])
        log(f"plain-torch export vs llama.cpp: worst max|Δ|/std = {p['exportWorstRel']}")

    ok = guarded(a.out, "base", part, export_check)
    part["exportOk"] = ok

    def hf_checks(p):
        import torch
        import transformers
        strict_fp32()
        p["transformers"] = transformers.__version__
        tok = transformers.AutoTokenizer.from_pretrained(payload.hf)
        p["tokenizer"] = {"class": type(tok).__name__, "size": len(tok), "eos": [tok.eos_token, tok.eos_token_id], "pad": [tok.pad_token, tok.pad_token_id],
                          "bos": [tok.bos_token, tok.bos_token_id], "chatTemplateSame": getattr(tok, "chat_template", None) == payload.manifest["chatTemplate"]}
        try:
            p["tokenizer"]["preTokenizer"] = str(tok.backend_tokenizer.pre_tokenizer)[:400]
        except Exception as e:
            p["tokenizer"]["preTokenizer"] = f"? ({e})"
        update_summary(a.out, "base", p)

        ids_of = lambda text: tok(text, add_special_tokens=False)["input_ids"]  # noqa: E731
        cases = read_json(payload.path("tokenizer-cases.json"))
        bad = [{"text": c["text"][:120], "gguf": c["ids"][:40], "hf": ids_of(c["text"])[:40]} for c in cases if ids_of(c["text"]) != c["ids"]]
        p["tokenIds"] = {"cases": len(cases), "equal": len(cases) - len(bad), "firstMismatches": bad[:3]}
        chats = read_json(payload.path("chat-cases.json"))
        rendered = [tok.apply_chat_template(c["messages"], tokenize=False, add_generation_prompt=True) for c in chats]
        p["chatTemplate"] = {
            "cases": len(chats),
            "textEqual": sum(r == c["text"] for r, c in zip(rendered, chats)),
            "idsEqual": sum(ids_of(r) == c["ids"] for r, c in zip(rendered, chats)),
            "firstMismatch": next(({"hf": r[-200:], "ragtune": c["text"][-200:]} for r, c in zip(rendered, chats) if r != c["text"]), None),
        }
        log(f"tokenizer: {json.dumps(p['tokenIds'])[:300]} chat: {json.dumps(p['chatTemplate'])[:300]}")
        update_summary(a.out, "base", p)

        # The GPU job's own tokenization and answer mask vs the CPU trainer's (tokenize-records.ts).
        job = load_job_module()
        records = job.read_records(payload.path("dataset", "train.openai.jsonl"))
        cpu = read_json(payload.path("cpu-examples.json"))
        newline = ids_of("\n")
        kinds = {"same": 0, "plusTrailingNewline": 0, "other": 0}
        mask_same, first_other = 0, None
        for messages, ex in zip(records, cpu):
            ids, labels = job.encode_chat(tok, messages, 4096)
            cpu_ids, start = ex["tokens"], ex["answerStart"]
            if ids == cpu_ids:
                kind = "same"
            elif ids == cpu_ids + newline:
                kind = "plusTrailingNewline"
            else:
                kind = "other"
                first_other = first_other or {"gpu": ids[-30:], "cpu": cpu_ids[-30:]}
            kinds[kind] += 1
            labeled = [i for i, y in enumerate(labels) if y != -100]
            if kind != "other" and labeled and labeled[0] == start and labeled[-1] == len(ids) - 1 and len(labeled) == len(ids) - start:
                mask_same += 1
        p["answerMasking"] = {"records": len(records), "cpuExamples": len(cpu), **kinds, "labelsStartAtCpuAnswerStart": mask_same, "firstOther": first_other,
                              "note": "the GPU job labels the template's text after the answer too (<|im_end|> and '\\n'); the CPU trainer stops at <|im_end|>"}
        log(f"answer masking: {json.dumps(p['answerMasking'])[:300]}")
        update_summary(a.out, "base", p)

        ref = payload.ref_logits()
        model = transformers.AutoModelForCausalLM.from_pretrained(payload.hf, dtype=torch.float32, attn_implementation="eager")
        model.eval()
        c = model.config
        p["hfConfig"] = {"ropeParameters": getattr(c, "rope_parameters", None), "ropeTheta": getattr(c, "rope_theta", None), "rmsNormEps": c.rms_norm_eps,
                         "heads": c.num_attention_heads, "kvHeads": c.num_key_value_heads, "tied": getattr(c, "tie_word_embeddings", None)}
        devices = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
        p["hfVsLlamaCpp"] = {}
        for device in devices:
            model.to(device)
            with torch.no_grad():
                p["hfVsLlamaCpp"][device] = {s["name"]: compare(ref[f"base.{s['name']}"], model(input_ids=torch.tensor([s["ids"]], device=device)).logits[0].float())
                                             for s in payload.sequences}
            p[f"hfWorstRel_{device}"] = worst(p["hfVsLlamaCpp"][device])
            log(f"HF LlamaForCausalLM fp32 on {device} vs llama.cpp: worst max|Δ|/std = {p[f'hfWorstRel_{device}']}")
            update_summary(a.out, "base", p)
        p["ok"] = (p["tokenIds"]["equal"] == len(cases) and p["chatTemplate"]["textEqual"] == len(chats) and p["answerMasking"]["other"] == 0)

    return guarded(a.out, "base", part, hf_checks) and ok


def load_job_module():
    import importlib.util
    sys.dont_write_bytecode = True
    spec = importlib.util.spec_from_file_location("job_script", JOB_SCRIPT)
    job = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(job)
    return job


def run_job(name, cfg, work, out, deadline_s, kill_after_checkpoint=False):
    """Runs job-script.py on cfg; its JSON events go to OUT/events.jsonl tagged with the run name."""
    os.makedirs(os.path.join(work, "configs"), exist_ok=True)
    cfg_path = os.path.join(work, "configs", f"{name}.json")
    write_json(cfg_path, cfg)
    began = time.time()
    log(f"run {name}: {sys.executable} {JOB_SCRIPT} {cfg_path} (deadline {deadline_s}s{', SIGKILL after the first checkpoint' if kill_after_checkpoint else ''})")
    proc = subprocess.Popen([sys.executable, JOB_SCRIPT, cfg_path], stdout=subprocess.PIPE, text=True, bufsize=1,
                            env={**os.environ, "PYTHONUNBUFFERED": "1"})
    timed_out = threading.Event()

    def on_deadline():
        timed_out.set()
        proc.kill()

    timer = threading.Timer(deadline_s, on_deadline)
    timer.start()
    events, killed_at = [], None
    try:
        with open(os.path.join(out, "events.jsonl"), "a", encoding="utf-8") as sink:
            for line in proc.stdout:
                line = line.rstrip("\r\n")
                try:
                    event = json.loads(line)
                except json.JSONDecodeError:
                    event = None
                if not isinstance(event, dict) or "event" not in event:
                    print(f"  [{name}] {line}", flush=True)
                    continue
                event["_t"] = round(time.time() - began, 3)
                events.append(event)
                sink.write(json.dumps({"run": name, **event}) + "\n")
                sink.flush()
                if event["event"] != "step" or event.get("step", 0) % 20 == 0 or event["step"] == event.get("totalSteps"):
                    print(f"  [{name}] {json.dumps(event)[:400]}", flush=True)
                if kill_after_checkpoint and event["event"] == "checkpoint" and killed_at is None:
                    os.kill(proc.pid, signal.SIGKILL)
                    killed_at = event["step"]
                    log(f"run {name}: SIGKILL sent right after the checkpoint at step {killed_at}")
        rc = proc.wait()
    finally:
        timer.cancel()
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    steps = [e for e in events if e["event"] == "step"]
    start = next((e for e in events if e["event"] == "start"), None)
    done = next((e for e in events if e["event"] == "done"), None)
    error = next((e for e in events if e["event"] == "error"), None)
    tps = sorted(e["tokensPerSecond"] for e in steps if isinstance(e.get("tokensPerSecond"), (int, float)))
    train_s = (steps[-1]["_t"] - start["_t"]) if steps and start else None
    result = {
        "rc": rc, "wallSeconds": round(time.time() - began, 2), "timedOut": timed_out.is_set(), "killedAfterCheckpoint": killed_at,
        "start": {k: v for k, v in (start or {}).items() if k != "_t"} or None,
        "startupSeconds": start["_t"] if start else None,
        "trainSeconds": round(train_s, 2) if train_s is not None else None,
        "steps": len(steps), "firstStep": steps[0]["step"] if steps else None, "lastStep": steps[-1]["step"] if steps else None,
        "stepsPerSecond": round((len(steps) - 1) / train_s, 2) if train_s and len(steps) > 1 else None,
        "tokensPerSecondMedian": tps[len(tps) // 2] if tps else None,
        "tokensPerSecondMean": sum(tps) / len(tps) if tps else None,
        "firstLoss": steps[0]["loss"] if steps else None, "finalLoss": steps[-1]["loss"] if steps else None,
        "losses": {e["step"]: e["loss"] for e in steps},
        "checkpoints": [e["step"] for e in events if e["event"] == "checkpoint"],
        "done": {k: v for k, v in done.items() if k != "_t"} if done else None,
        "error": {k: v for k, v in error.items() if k != "_t"} if error else None,
    }
    log(f"run {name}: rc={rc} steps={result['steps']} final loss={result['finalLoss']} wall={result['wallSeconds']}s "
        f"error={(result['error'] or {}).get('message')}")
    return result


def cmd_train(a):
    payload = Payload(a.payload)
    job_cfg = read_json(payload.path("job.json"))
    base = {**job_cfg, "baseModel": payload.hf, "dataset": payload.path("dataset", "train.openai.jsonl")}
    full_dir, resume_dir = os.path.join(a.work, "run-full"), os.path.join(a.work, "run-resume")
    for d in (full_dir, resume_dir):
        shutil.rmtree(d, ignore_errors=True)
    part = {"jobConfig": job_cfg, "jobScript": os.path.relpath(JOB_SCRIPT, REPO)}

    def run(p):
        p["full"] = run_job("full", {**base, "outputDir": full_dir}, a.work, a.out, a.deadline_full)
        update_summary(a.out, "train", p)
        p["interrupted"] = run_job("interrupted", {**base, "outputDir": resume_dir}, a.work, a.out, a.deadline_part, kill_after_checkpoint=True)
        update_summary(a.out, "train", p)
        p["resumed"] = run_job("resumed", {**base, "outputDir": resume_dir, "resume": True}, a.work, a.out, a.deadline_part)
        update_summary(a.out, "train", p)
        full, resumed, killed = p["full"], p["resumed"], p["interrupted"]
        resume = {"killedAfterCheckpoint": killed["killedAfterCheckpoint"], "killedRunLastStep": killed["lastStep"],
                  "resumedFrom": (resumed["start"] or {}).get("resumedFrom"), "resumedStartStep": (resumed["start"] or {}).get("startStep")}
        common = [s for s in resumed["losses"] if s in full["losses"]]
        if common:
            resume["lossMaxAbsDiffAfterResume"] = max(abs(resumed["losses"][s] - full["losses"][s]) for s in common)
            resume["lossStepsCompared"] = len(common)
        a_full, a_res = os.path.join(full_dir, "adapter", "adapter_model.safetensors"), os.path.join(resume_dir, "adapter", "adapter_model.safetensors")
        if os.path.exists(a_full) and os.path.exists(a_res):
            tf, tr = read_safetensors(a_full), read_safetensors(a_res)
            resume["sameTensorNames"] = sorted(tf) == sorted(tr)
            diffs = {n: (tf[n] - tr[n]).abs().max().item() for n in tf if n in tr}
            scale = max(t.abs().max().item() for t in tf.values())
            resume["adapterMaxAbsDiff"] = max(diffs.values()) if diffs else None
            resume["adapterMaxAbs"] = scale
            resume["adapterRelMaxDiff"] = resume["adapterMaxAbsDiff"] / scale if diffs and scale else None
            resume["bitIdentical"] = all(v == 0 for v in diffs.values())
            resume["worstTensors"] = sorted(diffs.items(), key=lambda kv: -kv[1])[:3]
            resume["adapterDtypes"] = safetensors_dtypes(a_full)
        p["resume"] = resume
        log(f"resume check: {json.dumps(resume)[:600]}")
        p["ok"] = bool(full["done"] and resumed["done"] and killed["killedAfterCheckpoint"] and resume.get("resumedStartStep") == killed["killedAfterCheckpoint"])

    return guarded(a.out, "train", part, run)


def cmd_adapter(a):
    payload = Payload(a.payload)
    part = {"adapterDir": a.adapter_dir, "engine": a.engine}

    def run(p):
        import torch
        if not os.path.exists(os.path.join(a.adapter_dir, "adapter_model.safetensors")):
            raise FileNotFoundError(f"no trained adapter at {a.adapter_dir} (did the train step fail?)")
        dest = os.path.join(a.out, "adapter")
        os.makedirs(dest, exist_ok=True)
        for f in ("adapter_model.safetensors", "adapter_config.json"):
            shutil.copyfile(os.path.join(a.adapter_dir, f), os.path.join(dest, f))
        p["adapterConfig"] = read_json(os.path.join(dest, "adapter_config.json"))
        p["adapterBytes"] = os.path.getsize(os.path.join(dest, "adapter_model.safetensors"))
        update_summary(a.out, "adapter", p)

        cfg, weights = payload.hf_config(), payload.hf_weights()
        deltas, lora_info = lora_deltas(a.adapter_dir, torch.float64)
        p["lora"] = lora_info
        ref = {s["name"]: reference_logits(cfg, weights, s["ids"], deltas) for s in payload.sequences}
        base = {s["name"]: reference_logits(cfg, weights, s["ids"]) for s in payload.sequences}
        p["adapterEffect"] = {n: compare(base[n], ref[n]) for n in ref}  # how much the adapter moves the logits
        out = {f"adapter_ref.{n}": t for n, t in ref.items()}
        if a.engine == "hf":
            import peft
            import transformers
            strict_fp32()
            model = transformers.AutoModelForCausalLM.from_pretrained(payload.hf, dtype=torch.float32, attn_implementation="eager")
            model = peft.PeftModel.from_pretrained(model, a.adapter_dir)
            model.eval()
            p["peft"] = peft.__version__
            hf = {}
            for device in ["cpu"] + (["cuda"] if torch.cuda.is_available() else []):
                model.to(device)
                with torch.no_grad():
                    hf[device] = {s["name"]: model(input_ids=torch.tensor([s["ids"]], device=device)).logits[0].float().cpu() for s in payload.sequences}
            p["peftVsPlainTorch"] = {d: {n: compare(ref[n], t) for n, t in v.items()} for d, v in hf.items()}
            if "cuda" in hf:
                p["cudaVsCpu"] = {n: compare(hf["cpu"][n], t) for n, t in hf["cuda"].items()}
            out.update({f"adapter.{n}": t for n, t in hf["cpu"].items()})
            p["logitsSource"] = "adapter.*: transformers LlamaForCausalLM + peft PeftModel, fp32, CPU; adapter_ref.*: plain torch fp64"
        else:
            out.update({f"adapter.{n}": t for n, t in ref.items()})
            p["logitsSource"] = "adapter.* and adapter_ref.*: plain torch fp64 (engine torch: no transformers/peft)"
        write_safetensors(os.path.join(a.out, "logits.safetensors"), out)
        p["logitsBytes"] = os.path.getsize(os.path.join(a.out, "logits.safetensors"))
        log(f"adapter logits written ({p['logitsSource']})")

    return guarded(a.out, "adapter", part, run)


def cmd_selftest(a):
    """Here, without transformers: the export's plain-torch logits vs llama.cpp's."""
    payload = Payload(a.payload)
    cfg, weights, ref = payload.hf_config(), payload.hf_weights(), payload.ref_logits()
    result = {s["name"]: compare(ref[f"base.{s['name']}"], reference_logits(cfg, weights, s["ids"]).float()) for s in payload.sequences}
    print(json.dumps({"exportVsLlamaCpp": result, "worstRel": worst(result)}))
    return True


def cmd_finalize(a):
    steps_path = os.path.join(a.out, "steps.jsonl")
    steps = []
    if os.path.exists(steps_path):
        with open(steps_path, encoding="utf-8") as f:
            steps = [json.loads(line) for line in f if line.strip()]
    update_summary(a.out, "steps", steps)
    summary = read_json(os.path.join(a.out, "summary.json"))
    summary["ok"] = all(s.get("rc") == 0 for s in steps) and bool(steps)
    write_json(os.path.join(a.out, "summary.json"), summary)
    files = sorted(os.path.relpath(os.path.join(d, f), a.out) for d, _, fs in os.walk(a.out) for f in fs)
    log(f"OUT holds {len(files)} files: {files}")
    return True


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    for name in ("env", "base", "train", "adapter", "selftest", "finalize"):
        s = sub.add_parser(name)
        s.add_argument("--out", default=os.environ.get("OUT", "."))
        if name in ("base", "train", "adapter", "selftest"):
            s.add_argument("--payload", default=os.path.join(HERE, ".payload"))
        if name == "train":
            s.add_argument("--work", required=True)
            s.add_argument("--deadline-full", type=float, default=120)
            s.add_argument("--deadline-part", type=float, default=80)
        if name == "adapter":
            s.add_argument("--adapter-dir", required=True)
            s.add_argument("--engine", choices=("hf", "torch"), default="hf")
    a = ap.parse_args(argv[1:])
    os.makedirs(a.out, exist_ok=True)
    ok = {"env": cmd_env, "base": cmd_base, "train": cmd_train, "adapter": cmd_adapter, "selftest": cmd_selftest, "finalize": cmd_finalize}[a.cmd](a)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
