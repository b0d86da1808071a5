#!/usr/bin/env bash
# What each nuisance of the toy shapes does to the raw-pixel floor and to self-supervised rows, at the 500-step toy
# preset of the time (--images 32000): every nuisance of SHAPE_NUISANCES alone on the calm (previous) design, then all
# of them ('wild'), each scored by the floors, instance discrimination and classification; then combinations, scored by
# the floors and classification; on 'rotation' also the dense and masked rows. Train split seed 0, test split seed
# 10,000: the draws the design was chosen on (the held-out draw, seed 20,000, is a column of every page).
# Usage: bash docs/results/shapes/design/run.sh   (writes docs/results/shapes/design/<design>/, combos/<design>/, design.md)
# Resumable: a finished run is read back. Run alone on the machine.
# Every row ran with the defaults of its date (the run files hold them); instance discrimination's variant was then
# `moco` (`mocov3` since docs/results/ablations/cifar/mocov3): add --set instance_discrimination.id_variant=moco to remake them.
set -euo pipefail
cd "$(dirname "$0")/../../.."
M3I=${M3I:-.venv/bin/m3i-ref}
B="bench quality --preset toy --images 32000"
for d in calm position scale colour rotation clutter wild; do
  $M3I $B --runs chance,raw_pixels,random_init,classification,instance_discrimination --out docs/results/shapes/design/$d --set shapes=$d --labels 0.1
done
$M3I $B --runs raw_pixels,random_init,dense_instance_discrimination,sim_feature,mim_feature,mim_pixel,sim_pixel --out docs/results/shapes/design/rotation --set shapes=rotation
for d in scale+colour scale+rotation colour+rotation position+scale+rotation position+scale+colour position+scale+rotation+clutter; do
  $M3I $B --runs raw_pixels,random_init,classification --out docs/results/shapes/design/combos/$d --set shapes=$d
done
.venv/bin/python docs/results/shapes/design/report.py
