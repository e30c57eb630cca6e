#!/usr/bin/env bash
# Train Castmaker's two cast networks on a GPU machine with one command, ship them and measure them.
#
#   bash resources/gpu/train-cast.sh [KIMG] [OUTDIR] [BATCH]
#
# KIMG (default 400) thousand images per network, OUTDIR (default training-runs) for checkpoints, sample
# grids and logs, BATCH (default 16) images per step. Re-running continues from the checkpoints in OUTDIR.
# It installs Castmaker into .venv (keeping a CUDA torch that is already installed there), trains
# cast-sprite then cast-portrait, copies both into resources/networks/, re-derives latent_presets/cast-*,
# and writes OUTDIR/bench-cast.txt. Checked on the CPU with: bash resources/gpu/train-cast.sh 0.02 /tmp/t 2
set -euo pipefail
cd "$(dirname "$0")/../.."
KIMG="${1:-400}"
OUTDIR="${2:-training-runs}"
BATCH="${3:-16}"
if [ ! -x .venv/bin/python ]; then
    python3 -m venv --system-site-packages .venv
fi
. .venv/bin/activate
python -c "import torch" 2>/dev/null || pip install -q torch
pip install -q -e .
python - <<'PY'
import torch
print("torch", torch.__version__, "CUDA:", torch.cuda.get_device_name(0) if torch.cuda.is_available() else "none")
PY
mkdir -p "$OUTDIR"
python main.py train all --kimg "$KIMG" --device auto --batch "$BATCH" --outdir "$OUTDIR" \
    --eval-every 60 --grid-every 120 --bundle
python main.py bench --cast --count 256 | tee "$OUTDIR/bench-cast.txt"
