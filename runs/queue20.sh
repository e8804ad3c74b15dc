#!/bin/bash
# after the orderings table: 100 exact samples of the masked model (784 rounds, one pixel each)
cd /work/main
export GM_DATA_DIR=/work/shared/data OMP_NUM_THREADS=1
while pgrep -f "queue18.sh" > /dev/null; do sleep 10; done
nice -n 5 .venv/bin/python -m gm_helpers.train samples --of masked_diffusion.pt --num 100 --steps 784 --threads 1 --out gm_helpers/checkpoints/masked_diffusion_samples.pt >> runs/post_masked.log 2>&1
