"""Speaks job-script.py's JSON-lines protocol without training anything, to test the launcher.

Usage: fake-job.py <mode> [job-script.py config.json]. Modes: protocol (mixed output, split writes),
fail (error event, exit 2), crash (traceback, exit 3, no event), slow (steps until killed),
stubborn (ignores SIGTERM), job (what a finished job prints; expects <outputDir>/adapter to exist).
"""
import json
import os
import signal
import sys
import time


def emit(event, **fields):
    print(json.dumps({"event": event, **fields}), flush=True)


mode = sys.argv[1]
if mode == "protocol":
    emit("start", totalSteps=2)
    print("Loading checkpoint shards: 100%", flush=True)
    print("{not json at all", flush=True)
    print(json.dumps({"no": "event field"}), flush=True)
    sys.stderr.write("a warning on stderr\n")
    sys.stdout.write('{"event": "step", "step": 1, ')  # one line in two writes
    sys.stdout.flush()
    time.sleep(0.05)
    sys.stdout.write('"loss": 2.5}\r\n')
    sys.stdout.flush()
    emit("step", step=2, loss=1.25, text="ünïcödé")
    sys.stdout.write(json.dumps({"event": "done", "adapterDir": "x"}))  # no trailing newline
elif mode == "fail":
    emit("start", totalSteps=1)
    sys.stderr.write("Traceback (most recent call last):\n  ...\nValueError: boom\n")
    emit("error", message="dataset d.jsonl line 3: not JSON", type="JobError")
    sys.exit(2)
elif mode == "crash":
    sys.stderr.write("Traceback (most recent call last):\nRuntimeError: CUDA out of memory\n")
    sys.exit(3)
elif mode in ("slow", "stubborn"):
    if mode == "stubborn":
        signal.signal(signal.SIGTERM, lambda *_: print("ignoring SIGTERM", flush=True))
    emit("start", totalSteps=1000000, pid=os.getpid())
    for step in range(1, 1000000):
        emit("step", step=step)
        time.sleep(0.05)
elif mode == "job":
    with open(sys.argv[3], encoding="utf-8") as f:
        cfg = json.load(f)
    emit("start", totalSteps=2, modelType="llama", heads=4, kvHeads=2, layers=2, targets=cfg["targetModules"])
    emit("step", step=1, totalSteps=2, loss=2.0, lr=1e-4, tokensPerSecond=100.0)
    emit("checkpoint", step=1, dir=os.path.join(cfg["outputDir"], "checkpoints", "step-1"))
    emit("step", step=2, totalSteps=2, loss=1.5, lr=2e-4, tokensPerSecond=120.0)
    emit("done", adapterDir=os.path.join(cfg["outputDir"], "adapter"), steps=2, loss=1.5)
