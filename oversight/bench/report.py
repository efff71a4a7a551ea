"""The benchmark's table (stdout) and JSON summary: medians over interleaved repetitions."""

from __future__ import annotations

import statistics

from oversight.bench.task import Arm

COLUMNS = ("examples_per_s", "tokens_per_s", "padded_tokens_per_s", "model_flops_per_s", "padded_flops_per_s", "padding_waste")


def summarize(arms: list[Arm], matmul_rate: float) -> dict:
    """Median of each rate over repetitions, plus the model-FLOPs fraction of the matmul rate."""
    rates = [a.rates() for a in arms]
    out = {k: statistics.median(r[k] for r in rates) for k in COLUMNS}
    out["matmul_fraction"] = out["model_flops_per_s"] / matmul_rate  # MFU on real tokens
    out["padded_matmul_fraction"] = out["padded_flops_per_s"] / matmul_rate  # the same, counting padded tokens
    out["peak_mb"] = statistics.median(a.peak_mb for a in arms)
    out["rise_mb"] = statistics.median(a.rise_mb for a in arms)
    out["seconds"] = [a.seconds for a in arms]
    out["examples"] = arms[0].examples
    out["extra"] = arms[-1].extra
    return out


def format_table(results: dict) -> str:
    head = (f"{'loop':<10} {'arm':<15} {'ex/s':>8} {'tok/s':>9} {'GFLOP/s':>8} {'of matmul':>9} {'w/ padding':>10} "
            f"{'pad waste':>9} {'peak MB':>8} {'rise MB':>8} {'live MB':>8}")
    lines = [head, "-" * len(head)]
    for loop in ("train", "label"):
        for arm, s in results[loop].items():
            lines.append(f"{loop:<10} {arm:<15} {s['examples_per_s']:>8.1f} {s['tokens_per_s']:>9.0f} "
                         f"{s['model_flops_per_s'] / 1e9:>8.2f} {s['matmul_fraction']:>9.1%} {s['padded_matmul_fraction']:>10.1%} "
                         f"{s['padding_waste']:>9.1%} {s['peak_mb']:>8.0f} {s['rise_mb']:>8.0f} {_mb(s.get('live_peak_mb')):>8}")
    probe = results["probe_sweep"]
    lines += ["", f"matmul rate: {results['matmul_gflops']:.1f} GFLOP/s (median of {len(results['matmul_gflops_samples'])}, "
              f"{results.get('matmul_dtype', 'torch.float32')}, {results['device']}, {results['threads']} threads)",
              f"speedup vs naive (minibatch {results['config']['batch_size']}): {results['speedup_vs_naive']:.2f}x   "
              f"vs naive minibatch 1: {results['speedup_vs_naive_mb1']:.2f}x   vs HF Trainer: {_fmt(results['speedup_vs_trainer'])}   "
              f"labelling vs naive labelling: {results['label_speedup_vs_naive']:.2f}x",
              f"labelling model-FLOPs/s / matmul rate: {results['label_matmul_fraction']:.1%}",
              f"live-tensor peak, ours / naive (minibatch {results['config']['batch_size']}): {_fmt(results.get('live_peak_vs_naive'))}"
              + (f" (training arms over {results['live_peak_train_steps']} steps)" if "live_peak_train_steps" in results else ""),
              *_bf16_lines(results),
              f"probe sweep ({probe['runs']} runs, {probe['epochs']} epochs, {probe['train_examples']} examples, {probe['model']}): "
              f"backbone FLOPs recompute/cached {probe['flops_saving']:.1f}x, time {probe['time_saving']:.1f}x, "
              f"max test-acc difference {probe['max_abs_acc_difference']:.4f}",
              f"padding waste on the full training pool: length-grouped {results['padding']['ours_full_pool']:.1%}, "
              f"fixed batches padded to longest {results['padding']['naive_full_pool']:.1%}, "
              f"padded to max_length {results['padding']['max_length_full_pool']:.1%}",
              f"labelling padding waste: token-budget sorted batches {results['padding']['label_token_budget']:.1%}, "
              f"plain sorted batches {results['padding']['label_plain_sorted']:.1%}",
              "AdamW step over the model: " + ", ".join(f"{k} {v * 1e3:.0f} ms" for k, v in results["optimizer_step_seconds"].items()),
              f"tokenization of {results['padding']['n_texts']} texts: {results['tokenize_seconds']:.2f} s (once per run, outside the timings)"]
    return "\n".join(lines)


def _bf16_lines(results: dict) -> list[str]:
    bf16 = results.get("speedups_bf16")
    if not bf16:
        return []
    return [f"bf16 arms (matmul rate {results['matmul_bf16_gflops']:.1f} GFLOP/s bf16): ours_bf16 vs naive (fp32) {bf16['vs_naive']:.2f}x, "
            f"vs naive minibatch 1 {bf16['vs_naive_mb1']:.2f}x, vs HF Trainer bf16 {_fmt(bf16.get('vs_hf_trainer_bf16'))}, "
            f"vs HF Trainer fp32 {_fmt(bf16.get('vs_hf_trainer'))}, vs ours fp32 {bf16['vs_ours_fp32']:.2f}x; "
            f"labelling vs naive {bf16['label_vs_naive']:.2f}x"]


def _mb(value) -> str:
    return "n/a" if value is None else f"{value:.0f}"


def _fmt(value) -> str:
    return "n/a" if value is None else f"{value:.2f}x"


def format_profile(profile: dict) -> str:
    lines = []
    for part, data in profile.items():
        lines.append(f"profile ({part}): matmul ops {data['matmul_share']:.0%} of self CPU time; top ops:")
        lines += [f"  {r['op']:<36} {r['self_ms']:>9.1f} ms {r['self_pct']:>5.1f}% {r['calls']:>6} calls" for r in data["top_ops"][:8]]
    return "\n".join(lines)
