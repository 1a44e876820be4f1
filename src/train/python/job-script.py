#!/usr/bin/env python3
"""ragtune's GPU LoRA trainer: transformers + peft, QLoRA (bitsandbytes 4-bit NF4) when it can.

Launched by ragtune's python-job.ts as `python job-script.py <config.json>`. It speaks JSON lines on
stdout (start, step, checkpoint, done, error; anything else on stdout or stderr is log text) and
exits non-zero on error. A plain torch loop, not transformers.Trainer, so every optimizer step gives
exactly one progress line and resuming from a checkpoint continues to the same result.
Loss is computed on assistant answer tokens only; prompts (system, user, retrieved context) get -100.
"""
import contextlib
import json
import math
import os
import random
import shutil
import sys
import time

DEFAULTS = {
    "targetModules": ["q_proj", "k_proj", "v_proj", "o_proj"], "rank": 16, "alpha": 32, "dropout": 0.05,
    "learningRate": 2e-4, "warmupSteps": None, "warmupRatio": 0.03, "schedule": "cosine", "epochs": 3, "batchSize": 4, "gradAccum": 4,
    "maxLength": 2048, "seed": 0, "checkpointSteps": 100, "resume": False, "quantization": "auto",
}
REQUIRED = ("baseModel", "dataset", "outputDir")


class JobError(Exception):
    """A problem the user can fix; reported as one error event with a clear message."""


def emit(event, **fields):
    print(json.dumps({"event": event, **fields}), flush=True)


def load_config(path):
    with open(path, encoding="utf-8") as f:
        given = json.load(f)
    missing = [k for k in REQUIRED if not given.get(k)]
    if missing:
        raise JobError(f"job config {path}: expected keys {', '.join(REQUIRED)}, missing {', '.join(missing)}")
    unknown = sorted(set(given) - set(DEFAULTS) - set(REQUIRED))
    if unknown:
        raise JobError(f"job config {path}: unknown keys {', '.join(unknown)}")
    cfg = {**DEFAULTS, **given}
    if cfg["schedule"] not in ("cosine", "constant") or cfg["quantization"] not in ("auto", "nf4", "none"):
        raise JobError("job config: schedule must be cosine or constant, quantization auto, nf4 or none")
    return cfg


def read_records(path):
    """Chat records as message lists: {messages:[...]} as is, {prompt, completion} as one user/assistant turn."""
    records = []
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                r = json.loads(line)
            except json.JSONDecodeError as e:
                raise JobError(f"dataset {path} line {n}: not JSON ({e})") from e
            if isinstance(r.get("messages"), list):
                records.append(r["messages"])
            elif isinstance(r.get("prompt"), str) and isinstance(r.get("completion"), str):
                records.append([{"role": "user", "content": r["prompt"]}, {"role": "assistant", "content": r["completion"]}])
            else:
                raise JobError(f"dataset {path} line {n}: expected {{messages: [...]}} or {{prompt, completion}}, got keys {sorted(r)}")
    return records


def encode_chat(tokenizer, messages, max_length):
    """Token ids and labels of one conversation: labels are the ids on assistant turns, -100 elsewhere.

    Each assistant turn is split off by rendering the chat template twice, up to the turn with the
    generation prompt and through the turn, so the answer's own tokens (and its end-of-turn token)
    are exactly what is learned.
    """
    tok = lambda text: tokenizer(text, add_special_tokens=False)["input_ids"]  # noqa: E731
    if not getattr(tokenizer, "chat_template", None):
        if len(messages) != 2 or messages[1]["role"] != "assistant":
            raise JobError("the tokenizer has no chat template: only {prompt, completion} records can be trained")
        prompt = tokenizer(messages[0]["content"])["input_ids"]
        answer = tok(messages[1]["content"]) + [tokenizer.eos_token_id]
        ids, labels = prompt + answer, [-100] * len(prompt) + answer
    else:
        ids, labels, done = [], [], ""
        render = lambda msgs, gen: tokenizer.apply_chat_template(msgs, tokenize=False, add_generation_prompt=gen)  # noqa: E731
        for j, m in enumerate(messages):
            if m.get("role") != "assistant":
                continue
            if j == 0:
                raise JobError("a conversation starts with an assistant message; expected a user message first")
            prompt_text, full_text = render(messages[:j], True), render(messages[: j + 1], False)
            if not prompt_text.startswith(done) or not full_text.startswith(prompt_text):
                raise JobError("the chat template does not render earlier turns unchanged, so answers cannot be masked; "
                               "train on single-turn records or use a model with a prefix-stable template")
            prompt, answer = tok(prompt_text[len(done):]), tok(full_text[len(prompt_text):])
            ids += prompt + answer
            labels += [-100] * len(prompt) + answer
            done = full_text
    return ids[:max_length], labels[:max_length]


def lr_factor(i, warmup, total, schedule):
    """Multiplier of the base learning rate at optimizer step i (0-based): linear warmup, then cosine or flat."""
    if i < warmup:
        return (i + 1) / warmup
    if schedule == "constant":
        return 1.0
    return 0.5 * (1 + math.cos(math.pi * (i - warmup) / max(1, total - warmup)))


def windows(n_examples, cfg):
    """Optimizer steps as lists of micro-batches (lists of example indexes); epochs shuffle with seed + epoch."""
    steps = []
    for epoch in range(cfg["epochs"]):
        order = list(range(n_examples))
        random.Random(cfg["seed"] + epoch).shuffle(order)
        micro = [order[i: i + cfg["batchSize"]] for i in range(0, n_examples, cfg["batchSize"])]
        steps += [(epoch, micro[i: i + cfg["gradAccum"]]) for i in range(0, len(micro), cfg["gradAccum"])]
    return steps


def latest_checkpoint(out_dir):
    root = os.path.join(out_dir, "checkpoints")
    steps = [int(d[5:]) for d in os.listdir(root) if d.startswith("step-") and d[5:].isdigit()] if os.path.isdir(root) else []
    return os.path.join(root, f"step-{max(steps)}") if steps else None


def train(model, examples, cfg, pad_id, save_adapter, emit, device="cpu", autocast_dtype=None, info=None):
    """The training loop; `model(input_ids=, attention_mask=)` must return an object with `.logits`."""
    import torch
    params = [p for p in model.parameters() if p.requires_grad]
    named = {n: p for n, p in model.named_parameters() if p.requires_grad}
    optimizer = torch.optim.AdamW(params, lr=cfg["learningRate"], weight_decay=0.0)
    plan = windows(len(examples), cfg)
    total = len(plan)
    warmup = cfg["warmupSteps"] if cfg["warmupSteps"] is not None else math.ceil(cfg["warmupRatio"] * total)
    torch.manual_seed(cfg["seed"])
    start, resumed = 0, None
    ckpt = latest_checkpoint(cfg["outputDir"]) if cfg["resume"] else None
    if ckpt:
        state = torch.load(os.path.join(ckpt, "training_state.pt"), map_location="cpu")
        if set(state["trainable"]) != set(named) or state["total"] != total:
            raise JobError(f"checkpoint {ckpt} was made with another config or dataset; fix: resume with the same ones, or use a new outputDir")
        with torch.no_grad():
            for n, v in state["trainable"].items():
                named[n].copy_(v)
        optimizer.load_state_dict(state["optimizer"])
        torch.set_rng_state(state["rng"])
        if torch.cuda.is_available() and state.get("cudaRng"):
            torch.cuda.set_rng_state_all(state["cudaRng"])
        start, resumed = state["step"], ckpt
    emit("start", **(info or {}), totalSteps=total, examples=len(examples), resumedFrom=resumed, startStep=start, warmupSteps=warmup,
         trainableParams=sum(p.numel() for p in params))
    model.train()
    loss_value = None
    for i in range(start, total):
        began = time.perf_counter()
        epoch, micro = plan[i]
        lr = cfg["learningRate"] * lr_factor(i, warmup, total, cfg["schedule"])
        for group in optimizer.param_groups:
            group["lr"] = lr
        batches = [[examples[k] for k in mb] for mb in micro]
        labeled = sum(sum(1 for t in lab[1:] if t != -100) for b in batches for _, lab in b)
        loss_sum, tokens = 0.0, 0
        for batch in batches:
            width = max(len(ids) for ids, _ in batch)
            ids = torch.tensor([x + [pad_id] * (width - len(x)) for x, _ in batch], device=device)
            lab = torch.tensor([y + [-100] * (width - len(y)) for _, y in batch], device=device)
            mask = torch.tensor([[1] * len(x) + [0] * (width - len(x)) for x, _ in batch], device=device)
            amp = torch.autocast(device_type="cuda", dtype=autocast_dtype) if autocast_dtype else contextlib.nullcontext()
            with amp:
                logits = model(input_ids=ids, attention_mask=mask).logits
            loss = torch.nn.functional.cross_entropy(logits[:, :-1].float().reshape(-1, logits.shape[-1]), lab[:, 1:].reshape(-1),
                                                     ignore_index=-100, reduction="sum") / max(1, labeled)
            loss.backward()
            loss_sum += loss.item()
            tokens += int(mask.sum())
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        loss_value = loss_sum
        if not math.isfinite(loss_value):
            raise JobError(f"the loss became {loss_value} at step {i + 1}; fix: lower learningRate or check the dataset")
        emit("step", step=i + 1, totalSteps=total, epoch=epoch + 1, loss=loss_value, lr=lr,
             tokensPerSecond=tokens / max(1e-9, time.perf_counter() - began))
        if cfg["checkpointSteps"] and (i + 1) % cfg["checkpointSteps"] == 0 and i + 1 < total:
            final = os.path.join(cfg["outputDir"], "checkpoints", f"step-{i + 1}")
            tmp = final + ".tmp"
            shutil.rmtree(tmp, ignore_errors=True)
            os.makedirs(tmp)
            save_adapter(model, tmp)
            torch.save({"step": i + 1, "total": total, "optimizer": optimizer.state_dict(), "rng": torch.get_rng_state(),
                        "cudaRng": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else None,
                        "trainable": {n: p.detach().cpu() for n, p in named.items()}}, os.path.join(tmp, "training_state.pt"))
            shutil.rmtree(final, ignore_errors=True)
            os.replace(tmp, final)
            emit("checkpoint", step=i + 1, dir=final)
    return {"steps": total, "loss": loss_value}


def require(name):
    try:
        return __import__(name)
    except ImportError as e:
        raise JobError(f"python package {name} is not importable by {sys.executable} ({e}); "
                       f"fix: {sys.executable} -m pip install torch transformers peft (and bitsandbytes for 4-bit on CUDA)") from e


def load_model(cfg):
    """Base model (4-bit NF4 on CUDA when bitsandbytes imports, bf16 on CUDA otherwise, fp32 on CPU) wrapped in LoRA."""
    torch, transformers, peft = require("torch"), require("transformers"), require("peft")
    cuda = torch.cuda.is_available()
    bnb_ok = False
    if cuda and cfg["quantization"] != "none":
        try:
            __import__("bitsandbytes")
            __import__("accelerate")  # transformers needs it to place quantized weights
            bnb_ok = True
        except Exception as e:  # bitsandbytes raises more than ImportError when its CUDA library is missing
            print(f"bitsandbytes unavailable: {e}", file=sys.stderr)
    if cfg["quantization"] == "nf4" and not bnb_ok:
        raise JobError("quantization nf4 needs CUDA, bitsandbytes and accelerate; fix: install them on a CUDA machine, or set quantization to auto")
    use_4bit = bnb_ok
    dtype = (torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16) if cuda else torch.float32
    if cuda and not use_4bit and dtype == torch.float16:
        dtype = torch.float32  # fp16 weights would need loss scaling; a GPU without bf16 trains in fp32
    major, minor = (int(x) for x in transformers.__version__.split(".")[:2])
    kwargs = {"dtype" if (major, minor) >= (4, 56) else "torch_dtype": dtype}
    if use_4bit:
        kwargs["quantization_config"] = transformers.BitsAndBytesConfig(
            load_in_4bit=True, bnb_4bit_quant_type="nf4", bnb_4bit_compute_dtype=dtype, bnb_4bit_use_double_quant=True)
        kwargs["device_map"] = {"": 0}
    tokenizer = transformers.AutoTokenizer.from_pretrained(cfg["baseModel"])
    model = transformers.AutoModelForCausalLM.from_pretrained(cfg["baseModel"], **kwargs)
    if cuda and not use_4bit:
        model = model.to("cuda")
    model.config.use_cache = False
    torch.manual_seed(cfg["seed"])  # LoRA A's initialization draws from it
    if use_4bit:
        model = peft.prepare_model_for_kbit_training(model, use_gradient_checkpointing=True)
    lora = peft.LoraConfig(r=cfg["rank"], lora_alpha=cfg["alpha"], lora_dropout=cfg["dropout"], target_modules=cfg["targetModules"],
                           bias="none", task_type="CAUSAL_LM")
    c = model.config
    model = peft.get_peft_model(model, lora)
    info = {"device": "cuda" if cuda else "cpu", "quantization": "nf4" if use_4bit else "none", "dtype": str(dtype).replace("torch.", ""),
            "modelType": c.model_type, "heads": c.num_attention_heads, "kvHeads": getattr(c, "num_key_value_heads", None) or c.num_attention_heads,
            "layers": c.num_hidden_layers, "versions": {"torch": torch.__version__, "transformers": transformers.__version__, "peft": peft.__version__}}
    return model, tokenizer, info, (torch.device("cuda", 0) if cuda else "cpu"), (dtype if cuda and dtype != torch.float32 else None)


def main(argv):
    if len(argv) != 2:
        raise JobError("usage: job-script.py <config.json>")
    cfg = load_config(argv[1])
    records = read_records(cfg["dataset"])
    model, tokenizer, info, device, autocast_dtype = load_model(cfg)
    examples, skipped = [], 0
    for messages in records:
        ids, labels = encode_chat(tokenizer, messages, cfg["maxLength"])
        if any(t != -100 for t in labels[1:]):
            examples.append((ids, labels))
        else:
            skipped += 1
    if not examples:
        raise JobError(f"no trainable examples: {skipped} records had no answer tokens within maxLength {cfg['maxLength']}")
    if skipped:
        print(f"skipped {skipped} records with no answer tokens within maxLength", file=sys.stderr)
    pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else (tokenizer.eos_token_id or 0)
    result = train(model, examples, cfg, pad_id, lambda m, d: m.save_pretrained(d), emit, device, autocast_dtype, {**info, "skipped": skipped})
    adapter_dir = os.path.join(cfg["outputDir"], "adapter")
    model.save_pretrained(adapter_dir)
    emit("done", adapterDir=adapter_dir, skipped=skipped, **result)


if __name__ == "__main__":
    try:
        main(sys.argv)
    except JobError as e:
        emit("error", message=str(e), type="JobError")
        sys.exit(2)
    except Exception as e:  # anything else is a bug or an environment problem: report it, keep the traceback on stderr
        import traceback
        traceback.print_exc()
        emit("error", message=f"{type(e).__name__}: {e}", type=type(e).__name__)
        sys.exit(1)
