#!/usr/bin/env bash
# MSN (id_variant=msn) against the row's default MoCo-style InfoNCE (id_variant=moco) on sim_global, the poster's row (l),
# toy preset, seeds 0, 1, 2 (a seed changes the data, the initialisation and the views; every variant sees the same ones),
# and MSN with 64 prototypes (msn-k64: as many as the toy batch has images) instead of 256; the untrained encoder as the floor.
# One thread per run (OMP_NUM_THREADS=1): on 2 cores shared with other jobs, a run with two threads trained at about
# 5 images/s and one with one thread at about 175, side by side.
# Usage: bash docs/results/ablations/msn/run.sh   (resumable: finished runs are read back), then
#        python docs/results/ablations/msn/report.py   (writes msn.md and msn.json beside this script)
set -euo pipefail
cd "$(dirname "$0")/../../../.."
M3I=${M3I:-.venv/bin/m3i-ref}
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-1}
for s in 0 1 2; do
  $M3I bench quality --preset toy --runs random_init --out docs/results/ablations/msn/random_init/seed$s --set seed=$s
  for variant in moco msn; do
    $M3I bench quality --preset toy --runs sim_global --out docs/results/ablations/msn/$variant/seed$s --set seed=$s --set id_variant=$variant
  done
  $M3I bench quality --preset toy --runs sim_global --out docs/results/ablations/msn/msn-k64/seed$s --set seed=$s --set id_variant=msn --set prototypes=64
done
