#!/usr/bin/env bash
# Train Castmaker's two cast networks on a GPU machine with one command, ship them and measure them.
#
#   bash resources/gpu/train-cast.sh [--kimg K | --minutes M] [--outdir DIR] [--batch B] [--draw-workers N]
#                                    [--mapping-steps S] [--from-bundled] [--no-bundle]
#
# --kimg K (default 400) thousand images per network, or --minutes M per network (for a time-boxed
# machine); --outdir DIR (default training-runs) for checkpoints, sample grids and logs; --batch B
# (default 16) images per step; --draw-workers N processes drawing the cast's pictures ahead of the GPU
# (default every core but one, at most 16); --mapping-steps S shortens the mapping fit (trials);
# --from-bundled starts each network from its bundled weights instead of from scratch (a continuation, each at
# the learning rate its last run ended at, which `train` reads from the file's record and prints).
# Re-running continues from the checkpoints in DIR. It installs Castmaker into .venv (keeping a CUDA
# torch that is already installed there) and trains cast-sprite then cast-portrait. Unless --no-bundle,
# it then copies both into resources/networks/, re-derives latent_presets/cast-* and writes
# DIR/bench-cast.txt. Needs bash 4.4 or later. Checked on the CPU with:
#   bash resources/gpu/train-cast.sh --kimg 0.02 --outdir /tmp/t --batch 2 --no-bundle --mapping-steps 50
set -euo pipefail
cd "$(dirname "$0")/../.."
STOP=()
OUTDIR=training-runs
BATCH=16
EXTRA=()
BUNDLE=(--bundle)
need() {  # need OPTION ARGC: the option must be followed by a value
    if [ "$2" -lt 2 ]; then echo "train-cast.sh: $1 needs a value (see --help)" >&2; exit 2; fi
}
while [ $# -gt 0 ]; do
    case "$1" in
        --kimg|--minutes)
            need "$1" $#
            if [ ${#STOP[@]} -gt 0 ]; then echo "train-cast.sh: give --kimg or --minutes, not both" >&2; exit 2; fi
            STOP=("$1" "$2"); shift 2 ;;
        --outdir) need "$1" $#; OUTDIR="$2"; shift 2 ;;
        --batch) need "$1" $#; BATCH="$2"; shift 2 ;;
        --draw-workers|--mapping-steps) need "$1" $#; EXTRA+=("$1" "$2"); shift 2 ;;
        --from-bundled) EXTRA+=(--init bundled); shift ;;
        --no-bundle) BUNDLE=(); shift ;;
        -h|--help) awk 'NR > 1 && !/^#/ { exit } NR > 1' "$0"; exit 0 ;;
        *) echo "train-cast.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
    esac
done
[ ${#STOP[@]} -gt 0 ] || STOP=(--kimg 400)
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
