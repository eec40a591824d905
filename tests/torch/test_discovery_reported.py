"""lsuv, auto and diagnose say in their result which source found the layers (issue 10, section 1):
"hooks+fx" when torch.fx traces the model too, "hooks" when only the forward hooks could (Hugging Face
GPT-2's forward does not trace)."""

import json

import pytest

torch = pytest.importorskip("torch")

from _initlab_families import FAMILIES, family_batch  # noqa: E402
from initlab.diagnose import diagnose_torch  # noqa: E402
from initlab.diagnose.present import verdict_lines  # noqa: E402
from initlab.torch import auto, lsuv  # noqa: E402


@pytest.mark.parametrize("family, source", [("transformer_pre_ln", "hooks+fx"), ("hf_gpt2", "hooks")])
def test_each_result_names_the_discovery_source(family, source):
    build, batch = FAMILIES[family][0], family_batch(family, 1)
    assert lsuv(build(), batch, seed=0).to_json()["discovery"] == source
    assert auto(build(), example=batch, seed=0).to_json()["discovery"] == source
    diagnosis = diagnose_torch(build(), batch)
    assert json.loads(json.dumps(diagnosis.to_json()))["discovery"] == source
    line = [x for x in verdict_lines(diagnosis) if x.startswith("layers found by:")]
    assert line and ("torch.fx for merges" in line[0]) == (source == "hooks+fx")
