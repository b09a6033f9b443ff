#!/bin/sh
# Times BenchmarkSinkhornLog (gradus) and POT's sinkhorn_log on the same
# problem in the same run: Go, then POT, then Go again (the machine's load
# varies; the two Go runs bracket the POT run and their mean is used).
# Prints both times and the ratio. Usage (from the repository root):
#   sh ot/testdata/bench_pot.sh
# Needs Debian's python3-pot (apt-get install -y python3-pot) at /usr/bin/python3.
set -e
cd "$(dirname "$0")/.."
gobench() {
	go test -run '^$' -bench '^BenchmarkSinkhornLog$' -benchtime 1x -count 1 . | awk '/^BenchmarkSinkhornLog/ {print $3/1e9, $5}'
}
go1=$(gobench)
pot=$(/usr/bin/python3 testdata/bench_pot.py)
go2=$(gobench)
pot_s=$(echo "$pot" | awk '{print $(NF-1)}')
echo "gradus ot LogDomain, run 1: $(echo "$go1" | awk '{printf "%.3f s (%.3f CPU-s)", $1, $2}')"
echo "$pot"
echo "gradus ot LogDomain, run 2: $(echo "$go2" | awk '{printf "%.3f s (%.3f CPU-s)", $1, $2}')"
echo "$go1 $go2 $pot_s" | awk '{m = ($1 + $3) / 2; printf "ratio gradus/POT (mean of the Go runs): %.3f\n", m / $5}'
