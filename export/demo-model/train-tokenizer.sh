#!/bin/sh
# Trains the demo model's tokenizer with Debian's sentencepiece (0.1.97) on the TRAINING split only.
# Usage (from the repository root): sh export/demo-model/train-tokenizer.sh [work-dir]
# Output: <work-dir>/tokenizer.model (+ .vocab); copy it into export/demo-model/checkpoint/.
# Ids: unk 0, bos 1, eos 2, pad 3 (the pad id never occurs in text, so it is safe as GenAI's pad_token_id).
set -eu
work=${1:-/tmp/demo-tokenizer}
mkdir -p "$work"
dotnet run -c Release --project export/demo-model/Rest.Onnx.DemoModel -- corpus-text --split train --out "$work/train.txt"
spm_train --input="$work/train.txt" --model_prefix="$work/tokenizer" \
  --model_type=bpe --vocab_size=4096 \
  --byte_fallback=true --character_coverage=1.0 --split_digits=true \
  --allow_whitespace_only_pieces=true --remove_extra_whitespaces=false \
  --normalization_rule_name=identity --add_dummy_prefix=false \
  --unk_id=0 --bos_id=1 --eos_id=2 --pad_id=3 \
  --num_threads=2
