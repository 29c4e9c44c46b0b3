#!/usr/bin/env python3
"""Checks that a checkpoint written by train.py means the same model to Hugging Face transformers.

  python3 export/demo-model/check_hf_parity.py export/demo-model/checkpoint

Loads model.safetensors into train.py's LlamaModel and, through transformers, into LlamaForCausalLM,
runs both in float32 on the same random ids and fails if the logits differ by more than 1e-3.
Needs transformers (present on the GPU machines; not in Debian 12's packages).
"""
import json
import os
import struct
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import train  # noqa: E402


def read_safetensors(path):
    with open(path, "rb") as f:
        size = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(size))
        data = f.read()
    tensors = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        if info["dtype"] != "F32":
            raise SystemExit(f"{path}: {name} is {info['dtype']}, expected F32")
        start, end = info["data_offsets"]
        tensors[name] = torch.from_numpy(np.frombuffer(data[start:end], dtype="<f4").copy()).reshape(info["shape"])
    return tensors


def main():
    folder = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(os.path.abspath(__file__)), "checkpoint")
    cfg = json.load(open(os.path.join(folder, "config.json")))
    tensors = read_safetensors(os.path.join(folder, "model.safetensors"))
    ours = train.LlamaModel(cfg)
    ours.load_state_dict({(n[len("model."):] if n.startswith("model.") else n): t for n, t in tensors.items()})
    ours.eval()

    from transformers import LlamaForCausalLM
    try:
        hf = LlamaForCausalLM.from_pretrained(folder, dtype=torch.float32)  # transformers >= 4.56
    except TypeError:
        hf = LlamaForCausalLM.from_pretrained(folder, torch_dtype=torch.float32)
    hf.eval()
    ids = torch.randint(4, cfg["vocab_size"], (2, min(96, cfg["max_position_embeddings"])), generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        a = ours(ids)
        b = hf(ids).logits
    diff = (a - b).abs().max().item()
    print(f"max |logit difference| ours vs transformers LlamaForCausalLM: {diff:.3g}")
    if diff > 1e-3:
        raise SystemExit("MISMATCH: the checkpoint does not mean the same model to transformers")
    print("parity OK")


if __name__ == "__main__":
    main()
