import subprocess
import sys

import pytest

from lstm97 import scale


@pytest.fixture(autouse=True)
def keep_scale():
    before = scale.current()
    yield
    scale.use(before)


def test_pick_follows_the_scale():
    for s in scale.SCALES:
        scale.use(s)
        assert scale.current() == s
        assert scale.pick(ci=1, book=2, paper=3) == {"ci": 1, "book": 2, "paper": 3}[s]


def test_unknown_scale_is_a_clear_error():
    with pytest.raises(ValueError, match="LSTM97_SCALE.*ci, book, paper"):
        scale.use("huge")


def run_with_env(value):
    env = {"LSTM97_SCALE": value, "PATH": ""}
    return subprocess.run([sys.executable, "-c", "import lstm97; print('imported'); print(lstm97.scale.current())"],
                          env=env, capture_output=True, text=True)


def test_environment_variable_sets_the_scale():
    assert run_with_env("paper").stdout.split() == ["imported", "paper"]
    assert run_with_env(" CI ").stdout.split() == ["imported", "ci"]
    bad = run_with_env("fast")  # an error where the scale is needed, not at import (`lstm97 list` works)
    assert bad.stdout.split() == ["imported"] and bad.returncode != 0 and "unknown scale 'fast'" in bad.stderr
