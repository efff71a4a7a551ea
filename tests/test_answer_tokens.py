"""How a verdict is scored: the tokens an answer is scored by after the reply's opening, on the real
packaged SmolLM2-135M-Instruct tokenizer and model."""

from __future__ import annotations

import numpy as np
import pytest


@pytest.fixture(scope="module")
def lm():
    """The real packaged SmolLM2-135M-Instruct, loaded once."""
    from oversight.judging.lm import LMConfig, connect

    return connect(LMConfig())


def test_an_answer_is_scored_by_the_tokens_the_model_would_write_after_the_opening(lm):
    """After "This headline is" the answer's first token carries its space: SmolLM2 spells ' sincere' as
    one token and ' sarcastic' as ' sarc' + 'astic', the tokens of the whole text, never the space on
    its own then 'since' + 're'. Scoring follows: an opening with or without a trailing space gives the
    same probabilities, and they are the model's own next-token probabilities of ' sincere' and ' sarc'."""
    import torch

    from oversight.judging.backends.hf import answer_tokens

    tok = lm.tokenizer
    conv = [{"role": "user", "content": "Is this news headline sincere or sarcastic?\nHeadline: area man wins lottery"}]
    prompt = lm.render(conv, "This headline is ")
    assert prompt.endswith("This headline is") and prompt == lm.render(conv, "This headline is")
    sincere, sarcastic = answer_tokens(tok, prompt, "This headline is ", ["sincere", "sarcastic"])
    assert tok.convert_ids_to_tokens(sincere) == ["Ġsincere"] and tok.convert_ids_to_tokens(sarcastic) == ["Ġsarc", "astic"]
    whole = tok(prompt + " sarcastic", add_special_tokens=False)["input_ids"]
    assert whole[-2:] == sarcastic
    assert answer_tokens(tok, lm.render(conv), "", ["sincere"])[0] == tok("sincere", add_special_tokens=False)["input_ids"]

    spaced, bare = (lm.option_probs([conv], ["sincere", "sarcastic"], p)[0] for p in ("This headline is ", "This headline is"))
    assert np.allclose(spaced, bare)
    ids = torch.tensor([tok(prompt, add_special_tokens=False)["input_ids"] + sarcastic])
    with torch.inference_mode():
        logp = torch.log_softmax(lm.model(input_ids=ids).logits[0].float(), -1)
    n = ids.shape[1]
    own = np.array([logp[n - 3, sincere[0]].item(), logp[n - 3, sarcastic[0]].item() + logp[n - 2, sarcastic[1]].item()])
    assert np.allclose(spaced, np.exp(own) / np.exp(own).sum(), atol=1e-5)

