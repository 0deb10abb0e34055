#!/usr/bin/env bash
# Load benchmark of nn serve: POST /api/predict (JSON pixels) with 1, 8 and 32 concurrent clients, for the default MLP,
# the small CNN (--fast) and the full CNN. The load generator is the bench project's "serve" mode (C#, HttpClient, one
# keep-alive connection per client), on the same machine as the server: both share its cores.
# Usage: NN_DATA=/path/to/data bench/serve_load.sh [SECONDS per client count, default 5]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-5}"
work="${NN_SERVE_BENCH:-${TMPDIR:-/tmp}/nn-serve-bench}"
dotnet build src/NeuralNet.Cli -c Release -v q -nologo >/dev/null
dotnet build bench/NeuralNet.Benchmarks -c Release -v q -nologo >/dev/null
nn="dotnet src/NeuralNet.Cli/bin/Release/net10.0/nn.dll"
bench="dotnet bench/NeuralNet.Benchmarks/bin/Release/net10.0/NeuralNet.Benchmarks.dll"

# models: trained once and kept in $work (the full CNN briefly: its speed, not its accuracy, is measured here)
[ -f "$work/mlp/checkpoints/best_model.npz" ] || $nn train --output "$work/mlp" --quiet --no-figures
[ -f "$work/cnn-fast/checkpoints/best_model.npz" ] || $nn train --model cnn --fast --output "$work/cnn-fast" --quiet --no-figures
[ -f "$work/cnn/checkpoints/best_model.npz" ] || $nn train --model cnn --epochs 1 --limit 6000 --output "$work/cnn" --quiet --no-figures

for name in mlp cnn-fast cnn; do
  out="$work/$name.serve.out"
  $nn serve --model "$work/$name/checkpoints/best_model.npz" --port 0 >"$out" 2>"$work/$name.serve.err" &
  pid=$!
  for _ in $(seq 100); do grep -q '^Listening on ' "$out" 2>/dev/null && break; sleep 0.1; done
  url="$(sed -n 's/^Listening on //p' "$out" | head -1)"
  [ -n "$url" ] || { echo "nn serve did not start: $(cat "$work/$name.serve.err")" >&2; kill "$pid"; exit 1; }
  $bench serve --url "$url" --seconds "$seconds" --label "$name" | grep -v '^{"machine' || true
  kill -TERM "$pid"; wait "$pid" || true
done
