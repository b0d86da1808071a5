#!/usr/bin/env bash
# Where the outside MoCo v3's lead comes from: our MoCo v3 (id_variant=mocov3) with lightly's loss, SimCLR's NT-Xent
# (contrastive_loss=nt_xent: the other queries are negatives too, the keys anchors too, no 2 tau scale), against MoCo v3's
# own ctr_loss (the default), CIFAR-10 (JPEG copy) at 100,000 images, seeds 0, 1, 2. The ctr_loss side is already measured:
# seed 0 is our side of the outside-reference page (docs/results/outside/cifar10/100k/ours/mocov3/seed0), seeds 1 and 2 the
# MoCo v3 page's runs (docs/results/ablations/cifar/mocov3/runs/mocov3); the floors are the CIFAR-10 benchmark's.
# One `m3i-ref bench quality` folder per seed under runs/ (resumable: a finished run is read back).
# Then: python docs/results/ablations/cifar/mocov3-loss/report.py (writes mocov3-loss.md and mocov3-loss.json).
# Usage: bash docs/results/ablations/cifar/mocov3-loss/run.sh   (data: $M3I_DATA or ../shared/data; M3I=path/to/m3i-ref)
# Run alone on the machine: the seconds column is only comparable between runs made alone (2 threads on 2 cores here).
set -euo pipefail
cd "$(dirname "$0")/../../../../.."
M3I=${M3I:-.venv/bin/m3i-ref}
here=docs/results/ablations/cifar/mocov3-loss
for seed in ${SEEDS:-0 1 2}; do
  "$M3I" bench quality --data-root "${M3I_DATA:-../shared/data}" --images 100000 --runs instance_discrimination \
    --out "$here/runs/nt_xent/seed$seed" --set id_variant=mocov3 --set contrastive_loss=nt_xent --set seed=$seed
  rm -rf "$here/runs/nt_xent/seed$seed/ckpt" "$here/runs/nt_xent/seed$seed/quality.png"   # not kept: the checkpoint, the plot
done
.venv/bin/python $here/report.py
