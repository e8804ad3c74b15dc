#!/bin/bash
# the masked model's 100 exact samples, in parallel with the orderings table (the DDPM paused meanwhile)
cd /work/main
export GM_DATA_DIR=/work/shared/data OMP_NUM_THREADS=1
while [ ! -f gm_helpers/checkpoints/masked_diffusion.pt ]; do sleep 5; done
sleep 5
pkill -STOP -f "resume runs/ddpm.run.pt"
nice -n 5 .venv/bin/python -m gm_helpers.train samples --of masked_diffusion.pt --num 100 --steps 784 --threads 1 --out gm_helpers/checkpoints/masked_diffusion_samples.pt >> runs/post_masked_samples.log 2>&1
