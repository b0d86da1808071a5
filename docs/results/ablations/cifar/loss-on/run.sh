#!/usr/bin/env bash
# MIM feature with the loss on the hidden patches only (loss_on=masked: MAE's and data2vec's placement) against the loss on
# every patch of the view (loss_on=all, the row's default from SiameseIM's code), CIFAR-10 (JPEG copy) at 100,000 images,
# seeds 0, 1, 2, under the row's current target (target_norm=instance). The loss_on=all side and the floors are the CIFAR-10
# benchmark's runs of the same seeds (docs/results/cifar10/100k/seed<k>). Measured before at CIFAR scale only under the old
# per-token target (34.1 kNN both ways, ablations/ablations.md).
# The runs and the page: ../lever.sh (for each seed, one `m3i-ref bench quality` folder; then report.py).
# Usage: bash docs/results/ablations/cifar/loss-on/run.sh   (data: $M3I_DATA or ../shared/data; M3I=path/to/m3i-ref; run alone)
exec bash "$(dirname "$0")/../lever.sh" loss-on mim_feature loss_on=masked masked
