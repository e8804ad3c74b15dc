#!/bin/bash
cd /work/main
export GM_DATA_DIR=/work/shared/data OMP_NUM_THREADS=1
while pgrep -f "queue15.sh" > /dev/null || pgrep -f "queue12.sh" > /dev/null; do sleep 10; done
sleep 60
nice -n 5 .venv/bin/python -m gm_helpers.train diffusion_steps --of ddpm.pt --num 500 --steps 10 20 50 100 1000 --threads 1 --out gm_helpers/checkpoints/ddpm_steps.json >> runs/steps.log 2>&1
