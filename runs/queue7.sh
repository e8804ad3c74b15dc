#!/bin/bash
# issue 24, end of the session of 2026-12-07: resume the PixelCNN 32x10 on the free core until 73 minutes of training in all
cd /work/main
export GM_DATA_DIR=/work/shared/data OMP_NUM_THREADS=1
.venv/bin/python -m gm_helpers.train --resume runs/pixelcnn_long.run.pt --threads 1 --max-minutes 73 --no-progress >> runs/pixelcnn_long.log 2>&1
