"""`compare` and `train` without options run the experiment of `make demo` (`--preset demo`)."""

import dataclasses

from initlab.experiments import CompareConfig, resolve
from initlab.experiments.compare import load_dataset


def test_defaults_equal_the_demo_preset_in_every_setting():
    defaults, demo = CompareConfig(), resolve("demo")
    differ = {f.name for f in dataclasses.fields(CompareConfig) if getattr(defaults, f.name) != getattr(demo, f.name)}
    assert differ == set()


def test_default_data_is_400_circles_points_split_300_train_100_test():
    data = load_dataset(CompareConfig())
    assert (len(data.y_train), len(data.y_test)) == (300, 100)
    assert data.X_train.shape[1] == 2
