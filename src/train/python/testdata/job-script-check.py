"""Checks job-script.py's torch-only parts (answer masking, schedule, loop, checkpoint/resume).

Not the real job: transformers and peft are replaced by a character tokenizer and a tiny torch
model, because this machine has neither (nor a GPU). Needs only torch. Prints one JSON object.
"""
import importlib.util
import json
import os
import sys
import tempfile
from types import SimpleNamespace

import torch

sys.dont_write_bytecode = True  # loading job-script.py must not leave a __pycache__ in the source tree
here = os.path.dirname(os.path.abspath(__file__))
spec = importlib.util.spec_from_file_location("job_script", os.path.join(here, "..", "job-script.py"))
job = importlib.util.module_from_spec(spec)
spec.loader.exec_module(job)
torch.set_num_threads(1)


class CharTokenizer:
    """One token per character; the 'chat template' is <role>content| per message."""
    chat_template = "fake"
    eos_token_id = 3
    pad_token_id = None

    def apply_chat_template(self, messages, tokenize=False, add_generation_prompt=False):
        assert tokenize is False
        return "".join(f"<{m['role']}>{m['content']}|" for m in messages) + ("<assistant>" if add_generation_prompt else "")

    def __call__(self, text, add_special_tokens=True):
        return {"input_ids": ([1] if add_special_tokens else []) + [ord(c) for c in text]}


class TinyLm(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.emb = torch.nn.Embedding(128, 16)
        self.drop = torch.nn.Dropout(0.1)
        self.out = torch.nn.Linear(16, 128)

    def forward(self, input_ids, attention_mask):
        return SimpleNamespace(logits=self.out(self.drop(self.emb(input_ids))))


def labeled_text(ids, labels):
    return "".join(chr(t) for t, y in zip(ids, labels) if y != -100)


tok = CharTokenizer()
convo = [{"role": "system", "content": "S"}, {"role": "user", "content": "Hi?"}, {"role": "assistant", "content": "Yo!"},
         {"role": "user", "content": "And?"}, {"role": "assistant", "content": "Bye"}]
ids, labels = job.encode_chat(tok, convo, 4096)
short_ids, short_labels = job.encode_chat(tok, convo, 20)
result = {
    "fullText": "".join(chr(t) for t in ids),
    "labeledText": labeled_text(ids, labels),
    "truncatedLength": len(short_ids),
    "lrCosine": [round(job.lr_factor(i, 2, 10, "cosine"), 6) for i in range(10)],
    "lrConstant": [job.lr_factor(i, 2, 10, "constant") for i in range(4)],
}
records = [[{"role": "user", "content": f"q{i}"}, {"role": "assistant", "content": "abc" * (1 + i % 3)}] for i in range(10)]
examples = [job.encode_chat(tok, r, 64) for r in records]


def run(out_dir, resume, stop_at=None):
    torch.manual_seed(123)
    model = TinyLm()
    cfg = {**job.DEFAULTS, "baseModel": "-", "dataset": "-", "outputDir": out_dir, "epochs": 3, "batchSize": 2, "gradAccum": 2,
           "learningRate": 0.05, "warmupSteps": 1, "checkpointSteps": 2, "resume": resume}
    events = []

    def emit(event, **fields):
        events.append({"event": event, **fields})
        if stop_at is not None and event == "step" and fields["step"] == stop_at:
            raise KeyboardInterrupt  # the job is killed right after this step, before its checkpoint

    def save(m, d):
        torch.save(m.state_dict(), os.path.join(d, "adapter.pt"))

    try:
        job.train(model, examples, cfg, 0, save, emit, info={"device": "cpu"})
    except KeyboardInterrupt:
        pass
    return model, events


with tempfile.TemporaryDirectory() as root:
    full, full_events = run(os.path.join(root, "a"), False)
    _, killed_events = run(os.path.join(root, "b"), False, stop_at=5)
    resumed, resumed_events = run(os.path.join(root, "b"), True)
    steps = [e for e in full_events if e["event"] == "step"]
    result.update({
        "totalSteps": full_events[0]["totalSteps"],
        "startEvent": full_events[0],
        "stepFields": sorted(steps[0]),
        "firstLoss": steps[0]["loss"],
        "lastLoss": steps[-1]["loss"],
        "checkpoints": [e["step"] for e in full_events if e["event"] == "checkpoint"],
        "checkpointFiles": sorted(os.listdir(os.path.join(root, "a", "checkpoints", "step-2"))),
        "killedAtStep": [e["step"] for e in killed_events if e["event"] == "step"][-1],
        "resumedFrom": os.path.basename(resumed_events[0]["resumedFrom"] or ""),
        "resumedSteps": [e["step"] for e in resumed_events if e["event"] == "step"],
        "sameLossesAfterResume": [e["loss"] for e in resumed_events if e["event"] == "step"] == [e["loss"] for e in steps[4:]],
        "sameWeightsAfterResume": all(torch.equal(p, q) for p, q in zip(full.state_dict().values(), resumed.state_dict().values())),
    })

print(json.dumps(result))
sys.exit(0)
