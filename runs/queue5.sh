#!/bin/bash
# issue 22: 2-d spline flows on lecture 06's ring and grid, 5 seeds each (one core)
cd /work/main
export OMP_NUM_THREADS=1
for data in ring grid; do
  .venv/bin/python -m gm_helpers.train spline_flow --data $data --seeds 0 1 2 3 4 --steps 5000 --threads 1 --out runs/flow2d_$data.pt > runs/flow2d_$data.log 2>&1
done
