#!/usr/bin/env bash
# The CIFAR-10 transfer page at 100,000 images seen (seed 0): pre-train, then the transfer protocol with 1% and 10% of the
# labels (kNN, linear probe, fine-tuning next to training from scratch). Resumable: a finished run is read back and only
# the columns it lacks are computed (from its checkpoint in ckpt/, git-ignored). Run alone on the machine.
set -euo pipefail
cd "$(dirname "$0")/../../.."
RUNS=${RUNS:-chance,raw_pixels,random_init,mim_pixel}
.venv/bin/m3i-ref bench quality --data-root "${DATA_ROOT:-../shared/data}" --images 100000 --runs "$RUNS" \
  --out docs/results/cifar10/100k/transfer --labels 0.01,0.1 --finetune
