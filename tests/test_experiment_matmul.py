"""Chapter matmul's arithmetic on hand-made counts and times with known answers (no timing)."""

import pytest

from middleground.experiments.matmul import (ELEMENTWISE, ELEMENTWISE_VERDICTS, RULES, TIME_VERDICTS,
                                             elementwise_verdict, embedding_share, flop_rows, inside_shares,
                                             inside_table, rises, stopwatch_split, time_verdict,
                                             training_ratio)
from middleground.mechanics.config import GPTConfig
from middleground.mechanics.numpy_gpt import forward_flops

# A tiny model: width C=4, one block, two heads, context T=2, vocabulary V=65.
TINY = GPTConfig(vocab_size=65, block_size=2, n_layer=1, n_head=2, n_embd=4)


def test_forward_flops_of_a_tiny_model_by_hand():
    f = forward_flops(TINY, 2)
    assert f["qkv projection"] == 2 * 4 * 12 == 96
    assert f["attention scores QK^T"] == f["attention mix AV"] == 2 * 2 * 4 == 16
    assert f["attention output projection"] == 2 * 4 * 4 == 32
    assert f["MLP (two matmuls)"] == 2 * 2 * 4 * 16 == 256
    assert f["output layer (logits)"] == 2 * 4 * 65 == 520
    # (9 + 2 + 16) C + 6 T H + 32 C per layer, then 8C + C + 5V: 108 + 24 + 128 + 32 + 4 + 325
    assert f[ELEMENTWISE] == 621
    assert f["total"] == 1557


def test_flop_rows_share_and_matmul_count_by_hand():
    rows, matmul = flop_rows({"a": 6, "b": 2, "element-wise": 2, "total": 10})
    assert [r["operation"] for r in rows] == ["a", "b", "element-wise"]
    assert [r["share"] for r in rows] == [0.6, 0.2, 0.2]
    assert matmul == 8  # every term but the total and the last (element-wise) one
    rows, matmul = flop_rows(forward_flops(TINY, 2))
    assert len(rows) == 7 and matmul == 1557 - 621 == 936


def test_training_ratio_of_a_tiny_model_by_hand():
    # 600 parameters at context 2: at T=2 all 600 count, 600 - 65*4 - 2*4 = 332 are not embeddings;
    # training's matmul FLOPs are 3 * 936 = 2808 per token.
    r = training_ratio(2, n_layer=1, n_head=2, n_embd=4, n_params=600, block_size=2)
    assert r["T"] == 2
    assert r[RULES[0][0]] == pytest.approx(2808 / 3600)
    assert r[RULES[1][0]] == pytest.approx(2808 / 1992)
    assert r[RULES[2][0]] == pytest.approx(2808 / (1992 + 6 * 1 * 2 * 4))
    # at T=4 the position table has 8 more parameters (608) and the scores cost 32 more FLOPs (968)
    r = training_ratio(4, n_layer=1, n_head=2, n_embd=4, n_params=600, block_size=2)
    assert r[RULES[0][0]] == pytest.approx(3 * 968 / (6 * 608))
    assert r[RULES[1][0]] == pytest.approx(3 * 968 / (6 * 332))


def test_embedding_share_by_hand():
    assert embedding_share(2, n_embd=4, n_params=600, block_size=2) == pytest.approx(268 / 600)
    assert embedding_share(4, n_embd=4, n_params=600, block_size=2) == pytest.approx(276 / 608)


def test_rises():
    assert rises([1.0, 1.1, 1.3]) and rises([2.0])
    assert not rises([1.0, 1.0, 1.3]) and not rises([1.0, 1.2, 1.1])


SPENT = {"linear_forward": 4.0, "attention_forward": 3.0, "softmax": 1.0, "layernorm_forward": 0.5,
         "gelu_forward": 0.25, "embedding_forward": 0.25}


def test_inside_shares_take_the_softmax_out_of_attention_and_keep_the_rest():
    inside = inside_shares(10.0, SPENT)
    assert list(inside.values()) == pytest.approx([0.4, 0.2, 0.1, 0.05, 0.025, 0.025, 0.2])
    assert list(inside)[-1].startswith("everything else")
    assert inside_table(inside).splitlines()[2:4] == [
        "| linear layers (matrix product and bias) | 40.0 % |",
        "| attention scores, mask and mixing (two products) | 20.0 % |"]


def test_stopwatch_split_by_hand():
    split = stopwatch_split(inside_shares(10.0, SPENT))
    assert split["mm_in_linear"] == pytest.approx(40) and split["mm_in_attention"] == pytest.approx(20)
    assert split["mm_elem_total"] == pytest.approx(20)  # softmax 10 + norms 5 + GELU 2.5 + lookup 2.5
    assert split["mm_elem_largest"] == "softmax of the attention scores"
    assert split["mm_elem_largest_share"] == pytest.approx(10) and split["mm_in_rest"] == pytest.approx(20)
    slow_norms = stopwatch_split(inside_shares(10.0, {**SPENT, "layernorm_forward": 1.5}))
    assert slow_norms["mm_elem_largest"] == "layer norms"


@pytest.mark.parametrize("time_share, index", [(0.9, 0), (0.855, 0), (0.6, 1), (0.5, 2), (0.4, 2), (0.39, 3)])
def test_time_verdict_each_branch(time_share, index):
    assert time_verdict(time_share, 0.95) == TIME_VERDICTS[index]


@pytest.mark.parametrize("per_op, index", [(8.0, 0), (5.0, 0), (2.0, 1), (1.5, 1), (1.2, 2), (0.5, 2)])
def test_elementwise_verdict_each_branch(per_op, index):
    assert elementwise_verdict(per_op) == ELEMENTWISE_VERDICTS[index]


def _tiny_params(C=4, V=65, T=2):
    """Numpy weights of the tiny model in numpy_gpt's layout (no torch): 1 block."""
    import numpy as np

    rng = np.random.default_rng(0)
    shapes = {"wte.weight": (V, C), "wpe.weight": (T, C), "ln_f.weight": (C,), "ln_f.bias": (C,)}
    p = "blocks.0."
    shapes.update({p + "ln_1.weight": (C,), p + "ln_1.bias": (C,), p + "attn.qkv.weight": (C, 3 * C),
                   p + "attn.qkv.bias": (3 * C,), p + "attn.proj.weight": (C, C), p + "attn.proj.bias": (C,),
                   p + "ln_2.weight": (C,), p + "ln_2.bias": (C,), p + "mlp.fc.weight": (C, 4 * C),
                   p + "mlp.fc.bias": (4 * C,), p + "mlp.proj.weight": (4 * C, C), p + "mlp.proj.bias": (C,)})
    return {k: rng.normal(size=s) for k, s in shapes.items()}


def test_the_stopwatch_times_every_watched_function_and_puts_them_back():
    import numpy as np

    from middleground.experiments.matmul import WATCHED, stopwatch_forward
    from middleground.mechanics import calculus

    before = {name: getattr(calculus, name) for name in WATCHED}
    total, spent = stopwatch_forward(_tiny_params(), TINY, np.zeros((1, 2), dtype=np.int64))
    assert {name: getattr(calculus, name) for name in WATCHED} == before
    assert set(spent) == set(WATCHED)  # every watched function ran at least once
    assert spent["softmax"] <= spent["attention_forward"]
    assert sum(spent.values()) - spent["softmax"] <= total  # the softmax runs inside attention
