#!/usr/bin/env bash
# SimMIM and data2vec beside the rows' own recipes (issue 24): MIM pixel with mim_variant=simmim and MIM feature with
# mim_variant=data2vec, toy preset, seeds 0, 1 and 2, paired by seed with the rows' own recipes (mae, siameseim: the rows'
# defaults), which are the toy benchmark's runs (docs/results/shapes/64k/seed0..2, bash docs/results/shapes/64k/seeds.sh);
# seed 0's MIM pixel run is reproduced here with today's code (seed0/defaults), then the paired page.
# Usage: bash docs/results/ablations/mim-variants/run.sh   (resumable: finished runs are read back)
# One thread per run: on a machine shared with other jobs two threads spin against them; the numbers are the same to the
# last digit with one or two threads (checked on this machine), only the seconds differ.
set -euo pipefail
cd "$(dirname "$0")/../../../.."
M3I=${M3I:-.venv/bin/m3i-ref}
PY=${PY:-.venv/bin/python}
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-1}
D=docs/results/ablations/mim-variants
for s in 0 1 2; do
  $M3I bench quality --preset toy --runs mim_pixel --out $D/seed$s/simmim --set seed=$s --set mim_variant=simmim
  $M3I bench quality --preset toy --runs mim_feature --out $D/seed$s/data2vec --set seed=$s --set mim_variant=data2vec
  # which part of data2vec's recipe moves the row: the same with the row's per-channel target norm instead of its per-token one
  $M3I bench quality --preset toy --runs mim_feature --out $D/seed$s/data2vec-instance --set seed=$s --set mim_variant=data2vec --set target_norm=instance
done
$M3I bench quality --preset toy --runs random_init,raw_pixels,mim_pixel --out $D/seed0/defaults --set seed=0
$PY $D/report.py
