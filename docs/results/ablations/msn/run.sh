#!/usr/bin/env bash
# MSN (id_variant=msn) against the row's default MoCo-style InfoNCE (id_variant=moco) on sim_global, the poster's row (l),
# toy preset, seeds 0, 1, 2 (a seed changes the data, the initialisation and the views; both variants see the same ones).
# Usage: bash docs/results/ablations/msn/run.sh   (resumable: finished runs are read back), then
#        python docs/results/ablations/msn/report.py   (writes msn.md and msn.json beside this script)
set -euo pipefail
cd "$(dirname "$0")/../../../.."
M3I=${M3I:-.venv/bin/m3i-ref}
for variant in msn moco; do
  for s in 0 1 2; do
    $M3I bench quality --preset toy --runs sim_global --out docs/results/ablations/msn/$variant/seed$s --set seed=$s --set id_variant=$variant
  done
done
