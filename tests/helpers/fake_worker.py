"""A stand-in for `rethink run`, run as `python fake_worker.py --spec DIR/spec.json ...`.

It takes the real worker's arguments (only --spec and --resume matter), steps
through its spec's steps (FAKE_STEP_S seconds each, default 0.002), writing
progress.json every step, a checkpoint every `log_every` steps and
result.json at the end; resumes from its checkpoint with --resume; stops on
SIGINT (status `stopped`, exit 130). Each start appends its argv, a few
environment variables and its pid to calls.log in the run folder.

It misbehaves on demand at half its steps through
FAKE_PLAN={"<run id>": "crash" | "oom" | "diverge" | "hang"}: a crash (exit 3
with an out-of-memory message), a SIGKILL to itself, a diverged result (exit
1), or a hang that ignores SIGINT.

Standard library only: it starts as fast as a script can, and never imports
rethink or keras. Never import it: `tests.helpers.workers` gives its command.
"""

import json
import os
import signal
import sys
import time
from pathlib import Path


def main(args: list[str]) -> None:
    spec_path = Path(args[args.index("--spec") + 1])
    run_dir = spec_path.parent
    run_id = run_dir.name
    spec = json.loads(spec_path.read_text())
    plan = json.loads(os.environ.get("FAKE_PLAN", "{}")).get(run_id, "ok")
    step_s = float(os.environ.get("FAKE_STEP_S", "0.002"))

    def write(name, data):
        tmp = run_dir / f".{name}.tmp"
        tmp.write_text(json.dumps(data))
        os.replace(tmp, run_dir / name)

    with open(run_dir / "calls.log", "a") as f:
        env = {
            k: os.environ.get(k)
            for k in (
                "CUDA_VISIBLE_DEVICES",
                "XLA_PYTHON_CLIENT_PREALLOCATE",
                "KERAS_BACKEND",
                "RETHINK_SAVE_MODEL",
            )
        }
        f.write(json.dumps({"argv": args, "env": env, "pid": os.getpid()}) + "\n")
    print("fake worker starts", run_id, flush=True)
    if plan == "hang":
        signal.signal(signal.SIGINT, signal.SIG_IGN)
    total = spec["steps"]
    ckpt = run_dir / "checkpoint.npz"
    start = json.loads(ckpt.read_text())["step"] if "--resume" in args and ckpt.exists() else 0
    write("env.json", {"device": "FakeCPU 9000"})

    def result(status, step):
        write(
            "result.json",
            {
                "status": status,
                "run_id": run_id,
                "step": step,
                "train_loss": 1.0 / (step + 1),
                "train_acc": step / total,
                "test_acc": 0.5,
                "wall_seconds": step * step_s,
                "images_per_s": 1000.0,
                "error": None,
                "resumed_from": start,
            },
        )

    step = start
    try:
        while step < total:
            step += 1
            time.sleep(step_s)
            write(
                "progress.json",
                {
                    "step": step,
                    "total_steps": total,
                    "train_loss": 1.0 / (step + 1),
                    "train_acc": step / total,
                    "test_acc": None,
                    "images_per_s": 1000.0,
                    "seconds": step * step_s,
                },
            )
            if step % spec["log_every"] == 0:
                write("checkpoint.npz", {"step": step})
            if step == total // 2 and plan == "crash":
                print("RuntimeError: out of device memory", file=sys.stderr, flush=True)
                os._exit(3)
            if step == total // 2 and plan == "oom":
                os.kill(os.getpid(), signal.SIGKILL)
            if step == total // 2 and plan == "diverge":
                result("diverged", step)
                sys.exit(1)
            while step == total // 2 and plan == "hang":
                time.sleep(0.05)
    except KeyboardInterrupt:
        result("stopped", step)
        sys.exit(130)
    result("completed", total)


if __name__ == "__main__":
    main(sys.argv[1:])
