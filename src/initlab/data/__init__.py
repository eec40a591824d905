"""Datasets for initialization experiments: synthetic 2-D sets, digits, image folders, files.

>>> from initlab.data import load, train_test_split, standardize
>>> X, y = load("circles", n_samples=40, seed=0)
>>> X_train, y_train, X_test, y_test = train_test_split(X, y, test_fraction=0.25, seed=0)
>>> X_train, X_test = standardize(X_train, X_test)
>>> X_train.shape, X_test.shape
((30, 2), (10, 2))
"""

from initlab.data.loader import DATASETS, GENERATED, load, load_labelled
from initlab.data.scale import standardize
from initlab.data.split import train_test_split

__all__ = ["DATASETS", "GENERATED", "load", "load_labelled", "standardize", "train_test_split"]
