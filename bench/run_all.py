"""`make bench`: every benchmark in this folder, one after the other, each printing median and p95."""

import subprocess
import sys
from pathlib import Path

BENCHES = ["lab_loop.py", "gateway_overhead.py", "emulator_memory.py", "runner_latency.py", "gradebook.py", "signin.py",
           "console_first_command.py", "iam_eval.py"]

failed = []
for name in BENCHES:
    print(f"\n=== {name} ===", flush=True)
    if subprocess.run([sys.executable, str(Path(__file__).with_name(name))]).returncode != 0:
        failed.append(name)
if failed:
    sys.exit(f"benchmarks failed: {', '.join(failed)}")
