#!/bin/bash
# issue 24: after the gated PixelCNN (queue2.sh), resume the PixelCNN 32x10 (4 of 14 epochs done)
cd /work/main
export GM_DATA_DIR=/work/shared/data OMP_NUM_THREADS=1
while kill -0 15702 2>/dev/null; do sleep 30; done
.venv/bin/python -m gm_helpers.train --resume runs/pixelcnn_long.run.pt --threads 1 --max-minutes 65 --no-progress >> runs/pixelcnn_long.log 2>&1
