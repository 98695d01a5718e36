"""Named parameter sets for the selectors.

``"stable"`` is the command line's default preset (``molselect select``,
``make demo``): for MolGroup, the ``"fast"`` network trained 4 times in one
round that scores every candidate (``n_repeats=4``), the gate averaged over
its 3 training epochs, and the ``top_k`` best of the mean selected; for a
selector that trains one network (Task2vec, the command line's default
method; TAG; MTDNN), the same GIN size and the same 4 repeats, so that its
ranking comes with intervals; for beam search, the GIN size.
It is the MolGroup configuration measured against the ground truth and the
one whose ranking repeats best per CPU minute; it departs from the paper's
single training and iterative filtering.

``"paper"`` is the configuration of the MolGroup paper (the estimator
defaults).  ``"medium"`` (hidden 128, the paper's 5 layers and 10 epochs) is
the closest CPU surrogate measured: its seed-averaged ranking agrees with the
paper configuration's in part.  ``"fast"`` is for a first look and demos: it
showed no reproducible ranking.
``python -m benchmarks.studies.bench_molgroup_fidelity --surrogate`` measures this;
the user guide's "Presets" page has the figures (speed and agreement), which
change with the machine and the data.

``ESTIMATOR_PRESETS`` holds the downstream models' sizes under the same
names (:func:`get_estimator_preset`), and :func:`selector_params` turns a
preset into the keyword arguments of any selector, as ``molselect select``
does.

``"reference"`` is the paper's configuration with the four choices of the
authors' released code where it departs from the paper as printed
(``gate_direction="reference"``: the sigmoid weights the auxiliary's own
parameters and the affinity is one minus it; ``feature_set="simple"``;
``structure="per_dataset"``: one 1-step Set2Set per dataset over normalised
``W x_fp``; ``standardize_labels=False``).  The other presets follow eq. 2
as printed.  See the user guide's "Where eq. 2 as printed and the released
code disagree".
"""

from __future__ import annotations

from collections.abc import Mapping

__all__ = ["PRESETS", "ESTIMATOR_PRESETS", "get_preset", "get_estimator_preset",
           "selector_params"]

PRESETS = {
    "paper": {},
    "medium": {"hidden_dim": 128},
    "fast": {"hidden_dim": 64, "num_layers": 3, "epochs": 4, "warmup_epochs": 1},
    # The fast network, trained 4 times from independent seeds in one round that scores
    # every candidate, the gate averaged over its 3 training epochs, and the top_k best
    # of the mean selected: the configuration measured against the ground truth
    # (benchmarks/results/quality.md, "MolGroup[fast,x4,1 round]").
    "stable": {"hidden_dim": 64, "num_layers": 3, "epochs": 4, "warmup_epochs": 1,
               "n_rounds": 1, "n_repeats": 4, "gate_epochs": 3, "filter_rule": "relative"},
    "reference": {"gate_direction": "reference", "feature_set": "simple",
                  "structure": "per_dataset", "standardize_labels": False},
}

class _EstimatorPresets(Mapping):
    """Preset name -> {model family -> sizes}, read from :data:`molselect.registry.ESTIMATORS`.

    ``"paper"`` is every family's defaults; the other presets are what each family
    registers (a family registered later appears at once).
    """

    def _families(self):
        from .registry import ESTIMATORS

        return ESTIMATORS.values()

    def __getitem__(self, name):
        if name == "paper":
            return {entry.name: {} for entry in self._families()}
        sizes = {entry.name: dict(entry.presets[name])
                 for entry in self._families() if name in entry.presets}
        if not sizes:
            raise KeyError(name)
        return sizes

    def __iter__(self):
        names = ["paper"]
        for entry in self._families():
            names.extend(n for n in entry.presets if n not in names)
        return iter(names)

    def __len__(self):
        return len(list(iter(self)))

    def __repr__(self):
        return repr(dict(self))


#: Downstream-model sizes per preset, per model family: ``ESTIMATOR_PRESETS["fast"]["gin"]``.
#: A read-only view of the model registry (:data:`molselect.registry.ESTIMATORS`), where
#: each family registers its sizes.
ESTIMATOR_PRESETS = _EstimatorPresets()


def get_preset(name):
    """Return a copy of the parameters of preset ``name``.

    Parameters
    ----------
    name : str
        One of ``PRESETS``.

    Returns
    -------
    dict
        Keyword arguments for :class:`~molselect.MolGroupSelector`.
    """
    if name not in PRESETS:
        raise ValueError(f"unknown preset {name!r}; choose one of {sorted(PRESETS)}")
    return dict(PRESETS[name])


def get_estimator_preset(name, model):
    """Return a copy of the downstream model's parameters under preset ``name``.

    Parameters
    ----------
    name : str
        One of ``ESTIMATOR_PRESETS`` (``"paper"``: the estimators' defaults, or
        ``"fast"``: a CPU-sized network).
    model : str
        The model family: a name in :data:`molselect.registry.ESTIMATORS`
        (``"gin"``, ``"graphormer"``).

    Returns
    -------
    dict
        Keyword arguments for :class:`~molselect.GINClassifier` /
        :class:`~molselect.GINRegressor` (``"gin"``) or the Graphormer estimators
        (``"graphormer"``).
    """
    if name not in ESTIMATOR_PRESETS:
        raise ValueError(f"unknown preset {name!r}; choose one of {sorted(ESTIMATOR_PRESETS)}")
    sizes = ESTIMATOR_PRESETS[name]
    if model not in sizes:
        raise ValueError(f"unknown model {model!r}; choose one of {sorted(sizes)}")
    return dict(sizes[model])


def selector_params(selector_class, preset="paper", **overrides):
    """Keyword arguments for ``selector_class`` from a preset and explicit values, checked.

    A selector takes the preset's parameters that its class's ``_preset_keys``
    names: :class:`~molselect.MolGroupSelector` every one (``None``), a baseline
    the settings of the GIN backbone it shares with MolGroup
    (:data:`~molselect._param_validation.BACKBONE_KEYS`,
    :class:`~molselect.BaseAuxiliarySelector`'s default) and, for the
    selectors that train one network (Task2vec, TAG, MTDNN), ``n_repeats``.  Then every override
    that is not ``None`` and that the class accepts replaces the preset's value.

    A preset's epoch split follows the epochs: when ``epochs`` is given (or
    set by the preset) and ``warmup_epochs`` is not given, the preset's (or
    the default) ``warmup_epochs`` becomes at most ``epochs - 1``, so that the
    last epoch still trains MolGroup's gate; when ``gate_epochs`` is not
    given, the preset's becomes at most the epochs that train the gate
    (``epochs - warmup_epochs``).  So ``molselect select --method molgroup
    --epochs 2`` runs the ``"stable"`` preset as 1 warm-up epoch and a gate
    read over 1 epoch.  A value that is given is never changed: an impossible
    combination of given values (``epochs=1, warmup_epochs=1``) is refused by
    the selector's own parameter check.

    Parameters
    ----------
    selector_class : type
        A selector class, e.g. :class:`~molselect.selectors.TAGSelector`.
    preset : str, default="paper"
        One of ``PRESETS``.
    **overrides
        Parameter values; ``None`` keeps the preset's (or the class default), and a
        name the class does not accept is ignored, so that one set of options can
        serve every selector.

    Returns
    -------
    dict
        Keyword arguments for ``selector_class``, which its parameter check
        accepts.

    Raises
    ------
    molselect._param_validation.InvalidParameterError
        From the selector's own check (``_validate_params``), naming the
        parameter (its ``param`` attribute), when the values are not valid.
    """
    accepted = selector_class().get_params()
    params = get_preset(preset)
    keys = selector_class._preset_keys
    if keys is not None:
        params = {k: v for k, v in params.items() if k in keys}
    params = {k: v for k, v in params.items() if k in accepted}
    given = {k: v for k, v in overrides.items() if v is not None and k in accepted}
    params.update(given)
    params = _follow_epochs(params, given, accepted)
    selector_class(**params)._validate_params()
    return params


def _follow_epochs(params, given, defaults):
    """The epoch split that was not given, fitted to the epochs (see :func:`selector_params`)."""
    if "warmup_epochs" not in defaults or "epochs" not in params:
        return params
    params = dict(params)
    epochs = params["epochs"]
    if "warmup_epochs" not in given:
        params["warmup_epochs"] = min(params.get("warmup_epochs", defaults["warmup_epochs"]),
                                      epochs - 1)
    if "gate_epochs" in params and "gate_epochs" not in given:
        # At least 1 (its declared minimum), so that an impossible given warmup_epochs is
        # the parameter the selector's check names.
        params["gate_epochs"] = max(1, min(params["gate_epochs"],
                                           epochs - params["warmup_epochs"]))
    return params
