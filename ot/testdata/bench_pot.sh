#!/bin/sh
# Runs the Go benchmark and POT on the same problem, one after the other, and
# prints both times and their ratio. Usage (from the repository root):
#   sh ot/testdata/bench_pot.sh
# Needs Debian's python3-pot (apt-get install -y python3-pot) at /usr/bin/python3.
set -e
cd "$(dirname "$0")/.."
go_ns=$(go test -run '^$' -bench '^BenchmarkSinkhornLog$' -benchtime 1x -count 1 . | awk '/^BenchmarkSinkhornLog/ {print $3}')
pot=$(/usr/bin/python3 testdata/bench_pot.py)
pot_s=$(echo "$pot" | awk '{print $(NF-1)}')
echo "gradus ot LogDomain: $(echo "$go_ns" | awk '{printf "%.3f", $1/1e9}') s"
echo "$pot"
echo "ratio gradus/POT: $(echo "$go_ns $pot_s" | awk '{printf "%.3f", $1/1e9/$2}')"
