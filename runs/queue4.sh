#!/bin/bash
# issue 22, session of 2026-12-07: after the gated PixelCNN (queue2.sh), a first dequantized flow on
# the digits: MAF, 5 MADE layers of 1,024 units, uniform dequantization, fp32, 50 minutes
cd /work/main
export GM_DATA_DIR=/work/shared/data OMP_NUM_THREADS=1

.venv/bin/python -m gm_helpers.train digit_flow --set kind='"maf"' num_layers=5 hidden=[1024] --epochs 80 --lr 5e-4 --lr-decay 0.97 --clip-grad 10 --batch-size 100 --threads 1 --max-minutes 50 --eval-samples 100 --no-progress --out runs/digit_flow_maf.pt > runs/digit_flow_maf.log 2>&1
