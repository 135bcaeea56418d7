#!/usr/bin/env bash
# The SSH benchmarks of docs/BENCHMARKS.md ("Over SSH"), before and after the move to
# Bubble Tea v2, in one run: v1 is commit 69183f9 (the last before the move) with
# ssh_v1_bench_test.go copied in; v2 is this tree's ui/sshserve.
#   ui/sshserve/testdata/v1bench/run.sh [benchtime]   (default 300x)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(git -C "$here" rev-parse --show-toplevel)
n=${1:-300x}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
git -C "$repo" archive 69183f9 | tar -x -C "$tmp"
cp "$here/ssh_v1_bench_test.go" "$tmp/ui/ssh_v1_bench_test.go"
sed -i '/^\/\/go:build ignore$/d' "$tmp/ui/ssh_v1_bench_test.go"
(cd "$tmp" && go get github.com/gliderlabs/ssh@v0.3.8 >/dev/null 2>&1 && go mod tidy >/dev/null 2>&1)
for round in 1 2; do
  echo "== v1 (69183f9, Bubble Tea v1), round $round"
  (cd "$tmp" && go test -run '^$' -bench 'SSH' -benchtime "$n" ./ui/ | grep Benchmark)
  echo "== v2 (this tree), round $round"
  (cd "$repo" && go test -run '^$' -bench 'SSH' -benchtime "$n" ./ui/sshserve/ | grep Benchmark)
done
