#!/bin/bash
# issue 24, session of 2026-12-07 03:07: resume the gated PixelCNN (5 of 20 epochs done)
cd /work/main
export GM_DATA_DIR=/work/shared/data OMP_NUM_THREADS=1
P=.venv/bin/python
$P -m gm_helpers.train --resume runs/gated_pixelcnn_long.run.pt --threads 1 --max-minutes 150 --no-progress >> runs/gated_pixelcnn_long.log 2>&1
