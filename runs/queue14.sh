#!/bin/bash
# the digit DDPM: more epochs once its first 70-minute budget ends (resumed from its run file)
cd /work/main
export GM_DATA_DIR=/work/shared/data OMP_NUM_THREADS=1
while pgrep -f "queue12.sh" > /dev/null; do sleep 10; done
nice -n 5 .venv/bin/python -m gm_helpers.train --resume runs/ddpm.run.pt --threads 1 --max-minutes 105 --no-progress >> runs/ddpm.log 2>&1
