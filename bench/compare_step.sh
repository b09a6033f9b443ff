#!/bin/sh
# Alternates `gradus bench mlp|cnn` with the PyTorch anchor (Debian's torch,
# 2 threads, OMP_WAIT_POLICY=PASSIVE and the default environment) so that all
# three see the same machine load; prints JSON lines. Usage, from the
# repository root:
#   sh bench/compare_step.sh [rounds] [seconds-per-window]
set -e
rounds=${1:-3}
secs=${2:-2}
go build -o /tmp/gradus-bench ./cmd/gradus
for b in mlp cnn; do
	i=0
	while [ "$i" -lt "$rounds" ]; do
		/tmp/gradus-bench bench "$b" --threads 2 --json --seconds "$secs"
		OMP_WAIT_POLICY=PASSIVE /usr/bin/python3 bench/pytorch_step.py "$b" --threads 2 --seconds "$secs"
		/usr/bin/python3 bench/pytorch_step.py "$b" --threads 2 --seconds "$secs"
		i=$((i + 1))
	done
done
