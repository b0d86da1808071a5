#!/usr/bin/env bash
# The toy runs the poster's orderings need, at seeds 1 and 2 (seed 0 is docs/results/shapes/64k/seed0), with the transfer protocol,
# then the three-seed page. Usage: [REPROBE=1] bash docs/results/shapes/64k/seeds.sh   (resumable; run alone on the machine)
# REPROBE=1 first deletes the runs made before results kept `probe_seed` (2026-12-06: their linear probe trained with seed 0,
# later runs' with the run's seed, so linear comparisons between the two could not pair), so that they are re-made under
# today's code; done on 2026-12-07 for every run of seeds 1 and 2.
set -euo pipefail
cd "$(dirname "$0")/../../.."
M3I=${M3I:-.venv/bin/m3i-ref}
RUNS=chance,raw_pixels,random_init,classification,m3i,m3i_nomix,mim_feature,mim_pixel,sim_feature,sim_pixel
if [ "${REPROBE:-0}" = 1 ]; then
  for s in 1 2; do for f in docs/results/shapes/64k/seed$s/runs/*.json; do
    grep -q '"probe_seed"' "$f" || { rm -v "$f"; rm -rf "docs/results/shapes/64k/seed$s/ckpt/$(basename "$f" .json)"; }
  done; done
fi
for s in 1 2; do
  $M3I bench quality --preset toy --runs $RUNS --out docs/results/shapes/64k/seed$s --set seed=$s --labels 0.01,0.1 --finetune
done
$M3I bench seeds docs/results/shapes/64k/seed0 docs/results/shapes/64k/seed1 docs/results/shapes/64k/seed2 --out docs/results/shapes/64k/seeds.md
