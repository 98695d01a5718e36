"""molselect.datasets._labels: one target rule for the selectors and the estimators.

A 200-molecule sample of toxcast has classification tasks of one class only
next to tasks with both: selectors and estimators alike accept it with a
warning naming the single-class tasks.  A sample where every task holds one
class only is refused by both.  toxcast is bundled with molselect, so these
tests need no data home.
"""

import warnings

import numpy as np
import pytest

from molselect.datasets import load_dataset
from molselect.datasets._labels import check_target_tasks
from molselect.models import GINClassifier
from molselect.selectors import MolGroupSelector, RandomSelector

from conftest import TINY

TINY_FIT = dict(TINY, epochs=1, random_state=0)


def _n_classes(data):
    labelled = ~np.isnan(data.y)
    return np.array([np.unique(data.y[labelled[:, j], j]).size for j in range(data.n_tasks)])


@pytest.fixture(scope="module")
def toxcast():
    """Two toxcast samples: some tasks single-class, and every task single-class."""
    train = load_dataset("toxcast").train
    some = train.sample(200)
    # Molecules inactive in every assay they were measured in: each task holds 0 or nothing.
    inactive = np.flatnonzero(np.nan_to_num(train.y, nan=0.0).max(axis=1) == 0.0)
    every = train.subset(inactive[:200], name="toxcast_inactive")
    counts = _n_classes(some)
    assert (counts == 1).any() and (counts == 2).any()  # the case this file is about
    assert (_n_classes(every) <= 1).all() and (_n_classes(every) == 1).any()
    pool = {name: load_dataset(name).train.sample(40, random_state=i)
            for i, name in enumerate(["bbbp", "esol"])}
    return some, every, pool


def _single_class_warning(record):
    found = [w for w in record if issubclass(w.category, UserWarning)
             and "classification task(s) with only one class" in str(w.message)]
    assert len(found) == 1, [str(w.message) for w in record]
    return found[0]


def test_the_rule_names_the_single_class_tasks(toxcast):
    some, _, _ = toxcast
    single = [t for t, n in zip(some.tasks, _n_classes(some)) if n == 1]
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        check_target_tasks(some, "X", stacklevel=2)
    message = str(_single_class_warning(record).message)
    assert f"{len(single)} classification task(s)" in message
    assert repr(single[0]) in message
    assert f"over the {int((_n_classes(some) == 2).sum())} other usable task(s)" in message


@pytest.mark.parametrize("make", [
    lambda: RandomSelector(top_k=1, random_state=0),
    lambda: MolGroupSelector(n_rounds=1, **{**TINY_FIT, "epochs": 2}),
], ids=["random", "molgroup"])
def test_selectors_accept_a_sample_with_some_single_class_tasks(toxcast, make):
    some, _, pool = toxcast
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        selector = make().fit(some, pool)
    warning = _single_class_warning(record)
    assert warning.filename == __file__  # points at the caller of fit
    assert type(selector).__name__ in str(warning.message)
    assert np.isfinite(selector.affinity_).all()


def test_estimator_accepts_a_sample_with_some_single_class_tasks(toxcast):
    some, _, _ = toxcast
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        model = GINClassifier(**TINY_FIT).fit(some)
    warning = _single_class_warning(record)
    assert warning.filename == __file__
    assert "GINClassifier" in str(warning.message)
    assert np.isfinite(model.score(some))


@pytest.mark.parametrize("make", [
    lambda: RandomSelector(top_k=1, random_state=0),
    lambda: MolGroupSelector(n_rounds=1, **{**TINY_FIT, "epochs": 2}),
    lambda: GINClassifier(**TINY_FIT),
], ids=["random", "molgroup", "gin"])
def test_a_sample_where_every_task_is_single_class_is_refused_by_both(toxcast, make):
    _, every, pool = toxcast
    estimator = make()
    args = (every,) if isinstance(estimator, GINClassifier) else (every, pool)
    with pytest.raises(ValueError, match=r"'toxcast_inactive' has only one class among the "
                                         r"labels of every task .*"
                                         + type(estimator).__name__
                                         + " needs both classes in at least one task"):
        estimator.fit(*args)
