#!/bin/bash
# the digit DDPM needs hours more (after 3 epochs its samples are blobs: Frechet 94 at 20 DDIM steps): resume it
cd /work/main
export GM_DATA_DIR=/work/shared/data OMP_NUM_THREADS=1
nice -n 5 .venv/bin/python -m gm_helpers.train --resume runs/ddpm.run.pt --threads 1 --max-minutes 400 --no-progress >> runs/ddpm.log 2>&1
