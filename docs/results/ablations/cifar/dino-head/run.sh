#!/usr/bin/env bash
# Global distillation with DINO's head (dino_head=bottleneck: an l2-normalised bottleneck, then unit-norm prototypes)
# against the row's plain MLP to the prototypes (dino_head=plain, the default), CIFAR-10 (JPEG copy) at 100,000 images,
# seeds 0, 1, 2: a lever for the row nearest the random-init floor. Measured before on the toy data only, one seed
# (+1.5 kNN, -1.4 linear, ablations/ablations.md). The dino_head=plain side and the floors are the CIFAR-10 benchmark's runs
# of the same seeds (docs/results/cifar10/100k/seed<k>).
# The runs and the page: ../lever.sh (for each seed, one `m3i-ref bench quality` folder; then report.py).
# Usage: bash docs/results/ablations/cifar/dino-head/run.sh   (data: $M3I_DATA or ../shared/data; M3I=path/to/m3i-ref; run alone)
exec bash "$(dirname "$0")/../lever.sh" dino-head global_distillation dino_head=bottleneck bottleneck
