import pytest

from middleground.base import profiles
from middleground.base.profiles import ParameterError, resolve


def test_every_profile_value_is_valid_for_its_parameter():
    for chapter, spec in profiles.CHAPTERS.items():
        for name, param in spec.items():
            for profile in profiles.PROFILES:
                param.check(name, getattr(param, profile))


def test_profiles_are_ordered_quick_full_gpu_for_run_sizes():
    steps = profiles.CHAPTERS["intro"]["steps"]
    assert steps.quick < steps.full <= steps.gpu


def test_resolve_fills_from_profile_and_records_overrides():
    cfg = resolve("intro", "quick", steps=7, seed=None)
    assert cfg.profile == "quick"
    assert cfg.steps == 7
    assert cfg.n_embd == profiles.CHAPTERS["intro"]["n_embd"].quick
    assert cfg.overrides == {"steps": 7}


def test_default_profile_is_full_on_cpu_and_env_overrides(monkeypatch):
    monkeypatch.delenv(profiles.PROFILE_ENV, raising=False)
    import torch

    from middleground.gpt.device import default_profile

    assert default_profile() == ("gpu" if torch.cuda.is_available() else "full")
    assert profiles.default_profile(cuda=True) == "gpu" and profiles.default_profile(cuda=False) == "full"
    with pytest.raises(ParameterError, match=r"no profile given and \$MIDDLEGROUND_PROFILE is unset"):
        resolve("intro")  # sizes never guess the device: the book layer decides
    monkeypatch.setenv(profiles.PROFILE_ENV, "quick")
    assert resolve("intro").profile == "quick" and default_profile() == "quick"
    monkeypatch.setenv(profiles.PROFILE_ENV, "huge")
    with pytest.raises(ParameterError, match=r"MIDDLEGROUND_PROFILE.*'huge'.*quick, full, gpu"):
        resolve("intro")
    with pytest.raises(ParameterError, match=r"MIDDLEGROUND_PROFILE.*'huge'.*quick, full, gpu"):
        default_profile()


def test_unknown_profile_names_the_allowed_ones():
    with pytest.raises(ParameterError, match=r"unknown profile 'fast'; allowed: quick, full, gpu"):
        resolve("intro", "fast")


@pytest.mark.parametrize("name,value,pattern", [
    ("steps", 0, r"'steps' must be int in \[1, 100000\]; got 0"),
    ("steps", 2.5, r"'steps' must be int .* got 2.5 of type float"),
    ("steps", True, r"'steps' must be int .* of type bool"),
    ("n_seeds", "3", r"'n_seeds' must be int .* of type str"),
])
def test_wrong_type_or_range_names_parameter_and_allowed_values(name, value, pattern):
    with pytest.raises(ParameterError, match=pattern):
        resolve("intro", "quick", **{name: value})


def test_unknown_parameter_lists_the_allowed_ones():
    with pytest.raises(ParameterError, match=r"unknown parameter\(s\) 'stepz'.*allowed: batch_size"):
        resolve("intro", "quick", stepz=3)


def test_unknown_chapter():
    with pytest.raises(ParameterError, match="no parameters are declared for chapter 'nope'"):
        resolve("nope", "quick")


def test_float_parameter_accepts_int():
    p = profiles.Param(float, 0.1, 0.2, 0.3, low=0.0, high=1.0)
    assert p.check("rate", 1) == 1.0
    with pytest.raises(ParameterError, match=r"'rate' must be float in \[0.0, 1.0\]; got 1.5"):
        p.check("rate", 1.5)


def test_choice_parameter():
    p = profiles.Param(str, "a", "b", "b", choices=("a", "b"))
    with pytest.raises(ParameterError, match=r"'kind' must be one of 'a', 'b'; got 'c'"):
        p.check("kind", "c")


def test_no_profile_makes_the_scaling_runs_memorise_the_corpus():
    """Scaling runs have dropout 0, so they must see the training split only a few times, or the
    larger models memorise it and L(N) measures that (issue 15: the gpu profile made 49 passes)."""
    from middleground.base.data import manifest

    train_chars = 0.9 * manifest()["tinyshakespeare"].bytes  # gpt.text.split keeps 90 % for training
    spec = profiles.CHAPTERS["scaling"]
    for profile in profiles.PROFILES:
        tokens = (getattr(spec["max_iters"], profile) * getattr(spec["batch_size"], profile)
                  * getattr(spec["block_size"], profile))
        assert tokens / train_chars <= 4.0, (profile, tokens / train_chars)
