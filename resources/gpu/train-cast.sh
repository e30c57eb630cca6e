#!/usr/bin/env bash
# Train Castmaker's two cast networks on a GPU machine with one command, ship them and measure them.
#
#   bash resources/gpu/train-cast.sh [--kimg K | --minutes M] [--outdir DIR] [--batch B] [--draw-workers N]
#
# --kimg K (default 400) thousand images per network, or --minutes M per network (for a time-boxed
# machine); --outdir DIR (default training-runs) for checkpoints, sample grids and logs; --batch B
# (default 16) images per step; --draw-workers N processes drawing the cast's pictures ahead of the GPU
# (default every core but one, at most 16). Re-running continues from the checkpoints in DIR.
# It installs Castmaker into .venv (keeping a CUDA torch that is already installed there), trains
# cast-sprite then cast-portrait, copies both into resources/networks/, re-derives latent_presets/cast-*,
# and writes DIR/bench-cast.txt. Checked on the CPU with:
#   bash resources/gpu/train-cast.sh --kimg 0.02 --outdir /tmp/t --batch 2 --no-bundle
set -euo pipefail
cd "$(dirname "$0")/../.."
STOP=(--kimg 400)
OUTDIR=training-runs
BATCH=16
EXTRA=()
BUNDLE=(--bundle)
while [ $# -gt 0 ]; do
    case "$1" in
        --kimg) STOP=(--kimg "$2"); shift 2 ;;
        --minutes) STOP=(--minutes "$2"); shift 2 ;;
        --outdir) OUTDIR="$2"; shift 2 ;;
        --batch) BATCH="$2"; shift 2 ;;
        --draw-workers) EXTRA+=(--draw-workers "$2"); shift 2 ;;
        --mapping-steps) EXTRA+=(--mapping-steps "$2"); shift 2 ;;
        --no-bundle) BUNDLE=(); shift ;;
        -h|--help) sed -n '2,13p' "$0"; exit 0 ;;
        *) echo "train-cast.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
    esac
done
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
python main.py train all "${STOP[@]}" --device auto --batch "$BATCH" --outdir "$OUTDIR" \
    --eval-every 60 --grid-every 120 "${EXTRA[@]}" "${BUNDLE[@]}"
if [ ${#BUNDLE[@]} -gt 0 ]; then
    python main.py bench --cast --count 256 | tee "$OUTDIR/bench-cast.txt"
fi
