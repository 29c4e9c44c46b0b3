#!/usr/bin/env python3
"""Trains the Rest.Onnx demo model: a small Llama on token ids written by `rest-demo-model prepare`.

Runs unchanged on Debian's torch 1.13 (CPU) and on a current PyTorch with CUDA (bf16 autocast there).
The model matches Hugging Face LlamaForCausalLM exactly (RMSNorm, rotate-half rotary embedding,
grouped-query attention, SwiGLU MLP), and every --checkpoint-minutes the weights are written in
Hugging Face layout (config.json, model.safetensors in F32, tokenizer.model), each file atomically.

  python3 export/demo-model/train.py --data <dir with train.bin valid.bin> --max-minutes 85
  python3 export/demo-model/train.py --data <dir> --max-minutes 85 --resume   # continue after a stop
  python3 export/demo-model/train.py --data <dir> --init-from <checkpoint dir> --context 1024 ...  # continued training
  python3 export/demo-model/train.py --data <dir> --init-from <checkpoint dir> --evaluate 256,1024  # perplexity by position
"""
import argparse
import csv
import json
import math
import os
import shutil
import signal
import struct
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))


def parse_args():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", required=True, help="folder with train.bin, valid.bin (uint16 ids)")
    p.add_argument("--out", default=os.path.join(HERE, "checkpoint"), help="Hugging Face checkpoint folder")
    p.add_argument("--tokenizer", default=None, help="tokenizer.model to copy (default: <out>/tokenizer.model)")
    p.add_argument("--log", default=os.path.join(HERE, "loss.csv"), help="loss CSV")
    p.add_argument("--state", default=os.path.join(HERE, "train-state.pt"), help="optimizer state for --resume")
    p.add_argument("--resume", action="store_true", help="continue from --state")
    p.add_argument("--init-from", default=None,
                   help="Hugging Face checkpoint folder whose weights start the run (same shape; --context may differ: "
                        "rotary embeddings have no weights); the optimizer and schedule start fresh")
    p.add_argument("--evaluate", default=None,
                   help="comma-separated window lengths: print held-out perplexity (all of valid.bin) by position "
                        "for the --init-from weights at each length, then exit without training")
    p.add_argument("--evaluate-tokens", type=int, default=0,
                   help="with --evaluate: only the first N tokens of valid.bin (0: all), the same prefix at every length")
    p.add_argument("--evaluate-spans", type=int, default=0,
                   help="with --evaluate: instead of all of valid.bin, N spans of the longest --evaluate length spread evenly "
                        "over it; shorter lengths cut each span into consecutive windows, so every length predicts the same tokens")
    # Model shape.
    p.add_argument("--vocab", type=int, default=4096)
    p.add_argument("--dim", type=int, default=128)
    p.add_argument("--layers", type=int, default=3)
    p.add_argument("--heads", type=int, default=4)
    p.add_argument("--kv-heads", type=int, default=2)
    p.add_argument("--ffn", type=int, default=0, help="intermediate size (default: 8/3 dim rounded up to 32)")
    p.add_argument("--context", type=int, default=256, help="max_position_embeddings and training length")
    p.add_argument("--rope-theta", type=float, default=10000.0)
    p.add_argument("--tie", action="store_true", help="tie the output head to the embedding")
    p.add_argument("--bos-id", type=int, default=1)
    p.add_argument("--eos-id", type=int, default=2)
    p.add_argument("--pad-id", type=int, default=3)
    # Optimization.
    p.add_argument("--batch", type=int, default=8)
    p.add_argument("--lr", type=float, default=2e-3)
    p.add_argument("--min-lr", type=float, default=2e-4)
    p.add_argument("--warmup-steps", type=int, default=100)
    p.add_argument("--weight-decay", type=float, default=0.1)
    p.add_argument("--max-minutes", type=float, default=85.0, help="training time; the cosine schedule spans it")
    p.add_argument("--max-steps", type=int, default=0, help="if > 0, the schedule spans steps instead of time")
    p.add_argument("--checkpoint-minutes", type=float, default=5.0)
    p.add_argument("--eval-tokens", type=int, default=32768, help="valid.bin prefix evaluated at each checkpoint (0: all); the final checkpoint adds a full evaluation")
    p.add_argument("--skip-final-eval", action="store_true", help="no full evaluation after the last checkpoint (slow on a CPU; --evaluate does it)")
    p.add_argument("--keep-best", action="store_true", help="write the HF checkpoint only when valid loss improves (many epochs)")
    p.add_argument("--log-steps", type=int, default=20)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--seed", type=int, default=1234)
    p.add_argument("--benchmark-steps", type=int, default=0, help="only time this many steps, then print tokens/s")
    return p.parse_args()


class RMSNorm(nn.Module):
    def __init__(self, dim, eps):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(dim))
        self.eps = eps

    def forward(self, x):
        dtype = x.dtype
        x = x.float()
        x = x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps)
        return self.weight * x.to(dtype)


def rotate_half(x):
    half = x.shape[-1] // 2
    return torch.cat((-x[..., half:], x[..., :half]), dim=-1)


class Attention(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.heads, self.kv_heads = cfg["num_attention_heads"], cfg["num_key_value_heads"]
        self.head_dim = cfg["hidden_size"] // self.heads
        d = cfg["hidden_size"]
        self.q_proj = nn.Linear(d, self.heads * self.head_dim, bias=False)
        self.k_proj = nn.Linear(d, self.kv_heads * self.head_dim, bias=False)
        self.v_proj = nn.Linear(d, self.kv_heads * self.head_dim, bias=False)
        self.o_proj = nn.Linear(self.heads * self.head_dim, d, bias=False)

    def forward(self, x, cos, sin, mask):
        b, t, _ = x.shape
        q = self.q_proj(x).view(b, t, self.heads, self.head_dim).transpose(1, 2)
        k = self.k_proj(x).view(b, t, self.kv_heads, self.head_dim).transpose(1, 2)
        v = self.v_proj(x).view(b, t, self.kv_heads, self.head_dim).transpose(1, 2)
        cos, sin = cos.to(q.dtype), sin.to(q.dtype)  # under bf16 autocast q, k, v stay bf16
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin
        if self.kv_heads != self.heads:  # query head h reads kv head h // group, as HF repeat_kv
            group = self.heads // self.kv_heads
            k = k.repeat_interleave(group, dim=1)
            v = v.repeat_interleave(group, dim=1)
        if hasattr(F, "scaled_dot_product_attention"):  # torch >= 2.0: fused kernels, same result
            out = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        else:  # torch 1.13: written out
            scores = (q @ k.transpose(-1, -2)) * (1.0 / math.sqrt(self.head_dim)) + mask.to(q.dtype)
            out = torch.softmax(scores.float(), dim=-1).to(q.dtype) @ v
        out = out.transpose(1, 2).reshape(b, t, self.heads * self.head_dim)
        return self.o_proj(out)


class MLP(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        d, f = cfg["hidden_size"], cfg["intermediate_size"]
        self.gate_proj = nn.Linear(d, f, bias=False)
        self.up_proj = nn.Linear(d, f, bias=False)
        self.down_proj = nn.Linear(f, d, bias=False)

    def forward(self, x):
        return self.down_proj(F.silu(self.gate_proj(x)) * self.up_proj(x))


class DecoderLayer(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.self_attn = Attention(cfg)
        self.mlp = MLP(cfg)
        self.input_layernorm = RMSNorm(cfg["hidden_size"], cfg["rms_norm_eps"])
        self.post_attention_layernorm = RMSNorm(cfg["hidden_size"], cfg["rms_norm_eps"])

    def forward(self, x, cos, sin, mask):
        x = x + self.self_attn(self.input_layernorm(x), cos, sin, mask)
        return x + self.mlp(self.post_attention_layernorm(x))


class LlamaModel(nn.Module):
    """Parameter names equal HF's ('model.' prefix added when saving; lm_head stays top-level)."""

    def __init__(self, cfg):
        super().__init__()
        self.cfg = cfg
        self.embed_tokens = nn.Embedding(cfg["vocab_size"], cfg["hidden_size"])
        self.layers = nn.ModuleList(DecoderLayer(cfg) for _ in range(cfg["num_hidden_layers"]))
        self.norm = RMSNorm(cfg["hidden_size"], cfg["rms_norm_eps"])
        self.lm_head = nn.Linear(cfg["hidden_size"], cfg["vocab_size"], bias=False)
        for module in self.modules():
            if isinstance(module, (nn.Linear, nn.Embedding)):
                nn.init.normal_(module.weight, mean=0.0, std=cfg["initializer_range"])
        if cfg["tie_word_embeddings"]:
            self.lm_head.weight = self.embed_tokens.weight
        head_dim = cfg["hidden_size"] // cfg["num_attention_heads"]
        inv_freq = 1.0 / (cfg["rope_theta"] ** (torch.arange(0, head_dim, 2, dtype=torch.float32) / head_dim))
        self.register_buffer("inv_freq", inv_freq, persistent=False)

    def forward(self, ids):
        t = ids.shape[1]
        positions = torch.arange(t, device=ids.device, dtype=torch.float32)
        freqs = torch.outer(positions, self.inv_freq)
        emb = torch.cat((freqs, freqs), dim=-1)
        cos, sin = emb.cos()[None, None], emb.sin()[None, None]
        mask = torch.full((t, t), float("-inf"), device=ids.device).triu(1)
        x = self.embed_tokens(ids)
        for layer in self.layers:
            x = layer(x, cos, sin, mask)
        return self.lm_head(self.norm(x))


def hf_config(args):
    ffn = args.ffn or 32 * math.ceil(8 * args.dim / 3 / 32)
    return {
        "architectures": ["LlamaForCausalLM"],
        "model_type": "llama",
        "hidden_size": args.dim,
        "intermediate_size": ffn,
        "num_hidden_layers": args.layers,
        "num_attention_heads": args.heads,
        "num_key_value_heads": args.kv_heads,
        "head_dim": args.dim // args.heads,
        "hidden_act": "silu",
        "rms_norm_eps": 1e-5,
        "rope_theta": args.rope_theta,
        "max_position_embeddings": args.context,
        "vocab_size": args.vocab,
        "tie_word_embeddings": bool(args.tie),
        "attention_bias": False,
        "mlp_bias": False,
        "initializer_range": 0.02,
        "bos_token_id": args.bos_id,
        "eos_token_id": args.eos_id,
        "pad_token_id": args.pad_id,
        "torch_dtype": "float32",
    }


def hf_tensors(model):
    """HF names -> F32 tensors. lm_head.weight is written even when tied, so every reader finds it."""
    out = {}
    for name, tensor in model.state_dict().items():
        out[name if name.startswith("lm_head.") else "model." + name] = tensor
    return out


def write_atomically(path, write):
    temp = path + ".tmp"
    with open(temp, "wb") as f:
        write(f)
        f.flush()
        os.fsync(f.fileno())
    os.replace(temp, path)


def write_safetensors(path, tensors):
    header, offset, blobs = {"__metadata__": {"format": "pt"}}, 0, []
    for name in sorted(tensors):
        data = tensors[name].detach().float().cpu().contiguous().numpy().astype("<f4").tobytes()
        header[name] = {"dtype": "F32", "shape": list(tensors[name].shape), "data_offsets": [offset, offset + len(data)]}
        offset += len(data)
        blobs.append(data)
    encoded = json.dumps(header, separators=(",", ":")).encode("utf-8")
    encoded += b" " * (-len(encoded) % 8)  # data starts 8-byte aligned

    def write(f):
        f.write(struct.pack("<Q", len(encoded)))
        f.write(encoded)
        for blob in blobs:
            f.write(blob)

    write_atomically(path, write)


def save_checkpoint(args, cfg, model, tokenizer_path):
    os.makedirs(args.out, exist_ok=True)
    write_atomically(os.path.join(args.out, "config.json"),
                     lambda f: f.write((json.dumps(cfg, indent=2) + "\n").encode("utf-8")))
    write_safetensors(os.path.join(args.out, "model.safetensors"), hf_tensors(model))
    # Training windows never start with BOS (documents are only joined by EOS), so say so the
    # Hugging Face way; Rest.Onnx honours add_bos_token when it encodes text prompts.
    tokenizer_config = {"add_bos_token": False, "add_eos_token": False,
                        "bos_token": "<s>", "eos_token": "</s>", "unk_token": "<unk>", "pad_token": "<pad>"}
    write_atomically(os.path.join(args.out, "tokenizer_config.json"),
                     lambda f: f.write((json.dumps(tokenizer_config, indent=2) + "\n").encode("utf-8")))
    target = os.path.join(args.out, "tokenizer.model")
    if os.path.abspath(tokenizer_path) != os.path.abspath(target):
        shutil.copyfile(tokenizer_path, target + ".tmp")
        os.replace(target + ".tmp", target)


def read_safetensors(path):
    """HF names -> F32 tensors from a safetensors file (F32 only, as save_checkpoint writes)."""
    with open(path, "rb") as f:
        size = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(size).decode("utf-8"))
        data = f.read()
    tensors = {}
    for name, entry in header.items():
        if name == "__metadata__":
            continue
        if entry["dtype"] != "F32":
            raise SystemExit(f"{path}: {name} is {entry['dtype']}; only F32 is read")
        begin, end = entry["data_offsets"]
        array = np.frombuffer(data[begin:end], dtype="<f4").reshape(entry["shape"])
        tensors[name] = torch.from_numpy(array.copy())
    return tensors


def init_from(model, cfg, folder):
    """Loads a checkpoint written by save_checkpoint into `model`; every field but max_position_embeddings must match."""
    with open(os.path.join(folder, "config.json")) as f:
        source = json.load(f)
    differ = {k: (source.get(k), v) for k, v in cfg.items() if k != "max_position_embeddings" and source.get(k) != v}
    if differ:
        raise SystemExit(f"--init-from {folder}: configuration differs (checkpoint, requested): {differ}")
    tensors = read_safetensors(os.path.join(folder, "model.safetensors"))
    state = {name[len("model."):] if name.startswith("model.") else name: t for name, t in tensors.items()}
    expected = set(model.state_dict())
    if set(state) != expected:
        raise SystemExit(f"--init-from {folder}: tensor names differ: missing {sorted(expected - set(state))}, "
                         f"unexpected {sorted(set(state) - expected)}")
    if cfg["tie_word_embeddings"] and not torch.equal(state["embed_tokens.weight"], state["lm_head.weight"]):
        raise SystemExit(f"--init-from {folder}: tied embeddings, but lm_head.weight differs from embed_tokens.weight")
    model.load_state_dict(state)
    return source["max_position_embeddings"]


def spread_starts(valid, span, spans, length):
    """Window starts for `spans` spans of `span` tokens spread evenly over valid.bin, each cut into windows of `length`."""
    last = len(valid) - span - 1
    firsts = [round(i * last / max(spans - 1, 1)) for i in range(spans)]
    return [f + j * length for f in firsts for j in range(span // length)]


@torch.no_grad()
def evaluate_by_position(model, valid, length, batch, device, buckets, limit=0, starts_all=None):
    """Held-out loss over valid.bin (its first `limit` tokens, or windows at `starts_all`) in windows of `length`:
    overall and per position range."""
    model.eval()
    sums = torch.zeros(length, dtype=torch.float64)
    if starts_all is None:
        starts_all = list(range(0, ((min(len(valid), limit or len(valid)) - 1) // length) * length, length))
    windows = len(starts_all)
    for first in range(0, windows, batch):
        starts = starts_all[first:first + batch]
        block = torch.from_numpy(np.stack([valid[s:s + length + 1] for s in starts]).astype(np.int64)).to(device)
        logits = model(block[:, :-1])
        loss = F.cross_entropy(logits.float().reshape(-1, logits.shape[-1]), block[:, 1:].reshape(-1), reduction="none")
        sums += loss.view(len(starts), length).sum(0).double().cpu()
    model.train()
    edges = list(range(0, length, buckets)) + [length]
    ranges = [(a, b, (sums[a:b].sum() / ((b - a) * windows)).item()) for a, b in zip(edges, edges[1:])]
    return (sums.sum() / (length * windows)).item(), windows * length, ranges


def load_tokens(path):
    return np.memmap(path, dtype="<u2", mode="r")


def random_batch(tokens, batch, length, rng, device):
    starts = rng.integers(0, len(tokens) - length - 1, size=batch)
    block = np.stack([tokens[s:s + length + 1] for s in starts]).astype(np.int64)
    block = torch.from_numpy(block).to(device)
    return block[:, :-1], block[:, 1:]


@torch.no_grad()
def evaluate(model, valid, length, batch, device, autocast, limit=0):
    """Mean loss over valid.bin (or its first `limit` tokens) in consecutive windows, the same every time."""
    model.eval()
    total, count = 0.0, 0
    windows = (min(len(valid), limit or len(valid)) - 1) // length
    for first in range(0, windows, batch):
        starts = range(first * length, min(windows, first + batch) * length, length)
        block = torch.from_numpy(np.stack([valid[s:s + length + 1] for s in starts]).astype(np.int64)).to(device)
        with autocast():
            logits = model(block[:, :-1])
        loss = F.cross_entropy(logits.float().reshape(-1, logits.shape[-1]), block[:, 1:].reshape(-1), reduction="sum")
        total += loss.item()
        count += block[:, 1:].numel()
    model.train()
    return total / count


def learning_rate(args, step, progress):
    if step < args.warmup_steps:
        return args.lr * (step + 1) / args.warmup_steps
    progress = min(max(progress, 0.0), 1.0)
    return args.min_lr + 0.5 * (args.lr - args.min_lr) * (1.0 + math.cos(math.pi * progress))


def main():
    args = parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    device = "cuda" if torch.cuda.is_available() else "cpu"
    use_bf16 = device == "cuda" and torch.cuda.is_bf16_supported()
    if device == "cuda":
        torch.backends.cuda.matmul.allow_tf32 = True

    def autocast():
        if use_bf16:
            return torch.autocast(device_type="cuda", dtype=torch.bfloat16)
        return torch.autocast(device_type="cpu", enabled=False)

    train = load_tokens(os.path.join(args.data, "train.bin"))
    valid = load_tokens(os.path.join(args.data, "valid.bin"))
    tokenizer_path = args.tokenizer or os.path.join(args.out, "tokenizer.model")
    if not os.path.exists(tokenizer_path):
        raise SystemExit(f"tokenizer.model not found at {tokenizer_path}; pass --tokenizer")
    for name, tokens in (("train.bin", train), ("valid.bin", valid)):
        if int(tokens.max()) >= args.vocab:
            raise SystemExit(f"{name} holds id {int(tokens.max())} >= --vocab {args.vocab}")

    cfg = hf_config(args)
    model = LlamaModel(cfg).to(device)
    if args.init_from:
        trained_at = init_from(model, cfg, args.init_from)
        print(f"initialised from {args.init_from} (trained with max_position_embeddings {trained_at}); "
              f"this run: {args.context}", flush=True)
    if args.evaluate:
        if not args.init_from:
            raise SystemExit("--evaluate needs --init-from <checkpoint dir>")
        lengths = [int(x) for x in args.evaluate.split(",")]
        for length in lengths:
            began = time.time()
            starts = spread_starts(valid, max(lengths), args.evaluate_spans, length) if args.evaluate_spans else None
            loss, count, ranges = evaluate_by_position(model, valid, length, args.batch, device, 256, args.evaluate_tokens, starts)
            detail = ", ".join(f"{a}-{b - 1}: {math.exp(l):.2f}" for a, b, l in ranges)
            print(f"windows of {length}: {count:,} tokens, loss {loss:.4f}, perplexity {math.exp(loss):.3f}; "
                  f"by position {detail} ({time.time() - began:.0f} s)", flush=True)
        return
    params = sum(p.numel() for p in model.parameters())
    print(f"device {device}, bf16 {use_bf16}, params {params:,} "
          f"(non-embedding {params - cfg['vocab_size'] * cfg['hidden_size'] * (1 if args.tie else 2):,}), "
          f"train {len(train):,} tokens, valid {len(valid):,} tokens", flush=True)

    decay = [p for n, p in model.named_parameters() if p.dim() >= 2]
    no_decay = [p for n, p in model.named_parameters() if p.dim() < 2]
    optimizer = torch.optim.AdamW([{"params": decay, "weight_decay": args.weight_decay},
                                   {"params": no_decay, "weight_decay": 0.0}], lr=args.lr, betas=(0.9, 0.95), eps=1e-8)
    rng = np.random.default_rng(args.seed)
    step, tokens_seen, elapsed_before = 0, 0, 0.0
    best = {"loss": float("inf")}  # best periodic valid loss, for --keep-best
    if args.resume:
        state = torch.load(args.state, map_location=device)
        if state["config"] != cfg:
            raise SystemExit(f"--resume: {args.state} was trained with another configuration: {state['config']}")
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        step, tokens_seen, elapsed_before = state["step"], state["tokens"], state["elapsed"]
        rng.bit_generator.state = state["rng"]
        best["loss"] = state.get("best", float("inf"))
        print(f"resumed at step {step}, {tokens_seen:,} tokens, {elapsed_before / 60:.1f} min", flush=True)

    stop = {"requested": False}
    signal.signal(signal.SIGTERM, lambda *_: stop.update(requested=True))
    signal.signal(signal.SIGINT, lambda *_: stop.update(requested=True))

    os.makedirs(os.path.dirname(os.path.abspath(args.log)), exist_ok=True)
    os.makedirs(os.path.dirname(os.path.abspath(args.state)), exist_ok=True)
    new_log = not (args.resume and os.path.exists(args.log))
    log_file = open(args.log, "a" if not new_log else "w", newline="")
    log = csv.writer(log_file)
    if new_log:
        log.writerow(["step", "tokens", "minutes", "lr", "train_loss", "valid_loss", "valid_tokens"])


    def checkpoint(final):
        valid_loss = evaluate(model, valid, args.context, args.batch, device, autocast, args.eval_tokens)
        if not args.keep_best or valid_loss < best["loss"]:
            best["loss"] = valid_loss
            save_checkpoint(args, cfg, model, tokenizer_path)
        temp = args.state + ".tmp"
        torch.save({"config": cfg, "model": model.state_dict(), "optimizer": optimizer.state_dict(), "step": step,
                    "tokens": tokens_seen, "elapsed": elapsed(), "rng": rng.bit_generator.state, "best": best["loss"]}, temp)
        os.replace(temp, args.state)
        log.writerow([step, tokens_seen, f"{elapsed() / 60:.2f}", "", "", f"{valid_loss:.4f}", args.eval_tokens or "all"])
        log_file.flush()
        print(f"step {step}: valid loss ({args.eval_tokens or 'all'} tokens) {valid_loss:.4f} (ppl {math.exp(valid_loss):.2f})"
              f"{', checkpoint written' if best['loss'] == valid_loss else ''}", flush=True)
        if final and not args.skip_final_eval:
            full = evaluate(model, valid, args.context, args.batch, device, autocast, 0)
            print(f"final: valid loss over all of valid.bin {full:.4f} (ppl {math.exp(full):.2f}) for the weights in the last checkpoint written"
                  if best["loss"] == valid_loss else f"final: valid loss over all of valid.bin {full:.4f} for the last weights (not the best, not written)", flush=True)
            log.writerow([step, tokens_seen, f"{elapsed() / 60:.2f}", "", "", f"{full:.4f}", "all"])
            log_file.flush()

    start = time.time()
    elapsed = lambda: elapsed_before + time.time() - start  # noqa: E731
    budget = args.max_minutes * 60
    last_checkpoint, running, running_n, bench_start = time.time(), 0.0, 0, None
    model.train()
    while True:
        progress = step / args.max_steps if args.max_steps > 0 else elapsed() / budget
        if progress >= 1.0 or stop["requested"]:
            break
        lr = learning_rate(args, step, progress)
        for group in optimizer.param_groups:
            group["lr"] = lr
        x, y = random_batch(train, args.batch, args.context, rng, device)
        with autocast():
            logits = model(x)
        loss = F.cross_entropy(logits.float().reshape(-1, logits.shape[-1]), y.reshape(-1))
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        step += 1
        tokens_seen += x.numel()
        running += loss.item()
        running_n += 1
        if args.benchmark_steps:
            if step == 2:
                bench_start = time.time()  # skip the first steps (allocation warm-up)
            elif step == args.benchmark_steps + 2:
                rate = args.benchmark_steps * x.numel() / (time.time() - bench_start)
                print(f"benchmark: {params:,} params, {rate:,.0f} tokens/s", flush=True)
                return
            continue
        if step % args.log_steps == 0:
            log.writerow([step, tokens_seen, f"{elapsed() / 60:.2f}", f"{lr:.2e}", f"{running / running_n:.4f}", ""])
            log_file.flush()
            print(f"step {step} tokens {tokens_seen:,} min {elapsed() / 60:.1f} lr {lr:.2e} "
                  f"loss {running / running_n:.4f} ({tokens_seen / max(elapsed(), 1e-9):,.0f} tok/s)", flush=True)
            running, running_n = 0.0, 0
        if time.time() - last_checkpoint >= args.checkpoint_minutes * 60:
            checkpoint(final=False)
            last_checkpoint = time.time()
    checkpoint(final=True)
    log_file.close()
    print("done" if not stop["requested"] else "stopped on request", flush=True)


if __name__ == "__main__":
    main()
