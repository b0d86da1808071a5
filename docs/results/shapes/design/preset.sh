#!/usr/bin/env bash
# Re-choosing the toy preset's length on the default design (scale+rotation): the same rows at 500, 1,000 (the preset)
# and 2,000 steps of 64 images. Train split seed 0, test split seed 10,000 (the held-out draw, 20,000, is in each page).
# Usage: bash docs/results/shapes/design/preset.sh   (writes docs/results/shapes/design/preset/steps-<n>/; resumable; run alone)
# Every row ran with the defaults of its date (the run files hold them); instance discrimination's variant was then
# `moco` (`mocov3` since docs/results/ablations/cifar/mocov3): add --set instance_discrimination.id_variant=moco to remake them.
set -euo pipefail
cd "$(dirname "$0")/../../.."
M3I=${M3I:-.venv/bin/m3i-ref}
RUNS=chance,raw_pixels,random_init,classification,m3i,instance_discrimination,dense_instance_discrimination,sim_feature,sim_pixel,mim_feature,mim_pixel
for steps in ${STEPS:-500 1000 2000}; do
  $M3I bench quality --preset toy --runs "$RUNS" --images $((steps * 64)) --out docs/results/shapes/design/preset/steps-$steps --set shapes=scale+rotation
done
# One setting at a time at the preset's length (1,000 steps), on the rows it should move; compared with steps-1000.
ROWS=chance,raw_pixels,random_init,instance_discrimination,dense_instance_discrimination,sim_feature,mim_feature,m3i
declare -A VARIANTS=([crops-0.25]="crop_min=0.25" [blr-2x]="blr=8e-3" [blr-half]="blr=2e-3")
for v in ${ONLY:-crops-0.25 blr-2x blr-half}; do
  $M3I bench quality --preset toy --runs $ROWS --out docs/results/shapes/design/preset/$v --set shapes=scale+rotation --set ${VARIANTS[$v]}
done
.venv/bin/python docs/results/shapes/design/report.py
