#!/bin/bash
# issue 22: after the 2-d flows (queue5.sh), the VAE's posterior on the shipped VAE's frozen decoder:
# two IAF steps, and the same training with no step (a re-trained diagonal Gaussian) as the baseline
cd /work/main
export GM_DATA_DIR=/work/shared/data OMP_NUM_THREADS=1
while kill -0 19714 2>/dev/null; do sleep 20; done
for steps in 2 0; do
  .venv/bin/python -m gm_helpers.train iaf_vae --init-from vae.pt --set flow_steps=$steps freeze_decoder=true --epochs 40 --lr 3e-4 --batch-size 100 --threads 1 --max-minutes 9 --eval-samples 1000 --no-progress --out runs/iaf_vae_$steps.pt > runs/iaf_vae_$steps.log 2>&1
done
