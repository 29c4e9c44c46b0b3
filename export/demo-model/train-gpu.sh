#!/bin/bash
# Retrains the demo model on a GPU machine in one call (see docs/demo-model.md, "Retraining on a GPU").
# Usage, from the repository root: bash export/demo-model/train-gpu.sh <folder with train.bin valid.bin> <out> [minutes]
# Writes <out>/config.json, <out>/model.safetensors.part-aa/-ab (15 MiB pieces: the device tool returns
# files of at most 16 MiB; join with `cat model.safetensors.part-* > model.safetensors`), <out>/loss.csv,
# <out>/train.log, and checks the checkpoint against transformers' LlamaForCausalLM.
set -euo pipefail
data=$1
out=$2
minutes=${3:-4}
export PYTHONUNBUFFERED=1
python3 -c "import torch; print('torch', torch.__version__, 'cuda', torch.cuda.is_available())"
python3 export/demo-model/train.py --data "$data" --out /tmp/demo-checkpoint \
  --tokenizer export/demo-model/checkpoint/tokenizer.model --log "$out/loss.csv" --state /tmp/demo-state.pt \
  --dim 256 --layers 6 --heads 4 --kv-heads 2 --tie --context 256 \
  --batch 64 --lr 1.5e-3 --min-lr 1.5e-4 --warmup-steps 200 --threads 8 \
  --max-minutes "$minutes" --checkpoint-minutes 0.25 --eval-tokens 0 --keep-best --log-steps 50 2>&1 | tee "$out/train.log"
python3 export/demo-model/check_hf_parity.py /tmp/demo-checkpoint 2>&1 | tee -a "$out/train.log"
cp /tmp/demo-checkpoint/config.json "$out/config.json"
split -b 15M /tmp/demo-checkpoint/model.safetensors "$out/model.safetensors.part-"
ls -la "$out"
