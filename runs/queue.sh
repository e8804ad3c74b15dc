#!/bin/bash
# issue 24: the PixelCNN family trains on so that NADE (87.88) can ship without breaking the ranking
cd /work/main
export GM_DATA_DIR=/work/shared/data OMP_NUM_THREADS=1
P=.venv/bin/python
$P -m gm_helpers.train gated_pixelcnn --set hidden=16 num_layers=5 --epochs 20 --lr 1e-3 --lr-decay 0.9 --batch-size 32 --amp --threads 1 --max-minutes 50 --no-progress --out runs/gated_pixelcnn_long.pt > runs/gated_pixelcnn_long.log 2>&1
$P -m gm_helpers.train row_lstm --set hidden=16 num_layers=2 --epochs 16 --lr 1e-3 --lr-decay 0.88 --batch-size 32 --amp --threads 1 --max-minutes 40 --no-progress --out runs/row_lstm_long.pt > runs/row_lstm_long.log 2>&1
$P -m gm_helpers.train pixelcnn --set hidden=32 num_layers=10 --epochs 14 --lr 1e-3 --lr-decay 0.88 --batch-size 32 --amp --threads 1 --max-minutes 55 --no-progress --out runs/pixelcnn_long.pt > runs/pixelcnn_long.log 2>&1
