"""PyTorch CPU anchor for `gradus bench mlp` and `gradus bench cnn`.

Times full training steps (forward, backward, SGD update with lr 0.01 and
CrossEntropyLoss) of the same models on a synthetic batch, with the protocol
of `gradus bench`: warm-up steps, then timed windows, median rate.

Run it with Debian's torch (apt-get install -y python3-torch; the pyenv
python3 first on PATH lacks it), in both environments of the comparison:

    OMP_WAIT_POLICY=PASSIVE /usr/bin/python3 bench/pytorch_step.py mlp --threads 2
    /usr/bin/python3 bench/pytorch_step.py mlp --threads 2
    go run ./cmd/gradus bench mlp --threads 2

(and the same with cnn), alternating the programs a few times, since the
machine's speed drifts. Not used by the tests.
"""

import argparse
import json
import os
import statistics
import time

import torch
from torch import nn


def model(name):
    if name == "mlp":
        return nn.Sequential(nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 512), nn.ReLU(), nn.Linear(512, 10))
    return nn.Sequential(
        nn.Conv2d(1, 32, 3), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(1600, 10),
    )


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("bench", choices=["mlp", "cnn"])
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seconds", type=float, default=3.0)
    ap.add_argument("--windows", type=int, default=3)
    ap.add_argument("--warmup", type=int, default=5)
    a = ap.parse_args()

    torch.manual_seed(1)
    torch.set_num_threads(a.threads)
    m = model(a.bench)
    shape = (a.batch, 784) if a.bench == "mlp" else (a.batch, 1, 28, 28)
    x = torch.randn(*shape)
    y = torch.randint(0, 10, (a.batch,))
    opt = torch.optim.SGD(m.parameters(), lr=0.01)
    lossf = nn.CrossEntropyLoss()

    def step():
        opt.zero_grad()
        loss = lossf(m(x), y)
        loss.backward()
        opt.step()

    for _ in range(a.warmup):
        step()
    rates = []
    cpu0, steps = time.process_time(), 0
    for _ in range(a.windows):
        n, t0 = 0, time.perf_counter()
        while time.perf_counter() - t0 < a.seconds:
            step()
            n += 1
        rates.append(n / (time.perf_counter() - t0))
        steps += n
    cpu_ms = 1000 * (time.process_time() - cpu0) / steps
    print(json.dumps({
        "bench": a.bench, "impl": "pytorch " + torch.__version__, "batch": a.batch,
        "threads": torch.get_num_threads(), "omp_wait_policy": os.environ.get("OMP_WAIT_POLICY", "default"),
        "steps_per_s": statistics.median(rates), "windows_steps_per_s": rates, "cpu_ms_per_step": cpu_ms,
    }))


if __name__ == "__main__":
    main()
