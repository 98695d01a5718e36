"""The registries of molselect's pluggable parts: selectors and downstream estimators.

Each selector and each downstream model family is registered once, here,
under the name the command line knows it by; everything that lists them
iterates over these registries: ``molselect select --method`` and
``molselect evaluate/transfer --model``, the estimator presets
(:data:`molselect.presets.ESTIMATOR_PRESETS`), the API tests and the docs'
selector table.  The shape is chemprop v2's ``utils/registry.py``: a mapping
from names to entries with a :meth:`Registry.register` decorator.

The built-in entries name their class as ``"module:Class"`` and import it on
first use, so that reading a registry (``molselect --help``) imports neither
torch nor the selectors.  A class of one's own is registered with the
decorator, from the module that defines it::

    from molselect.base import BaseAuxiliarySelector
    from molselect.registry import SELECTORS

    @SELECTORS.register("my-method")
    class MySelector(BaseAuxiliarySelector):
        ...

after which ``molselect select --method my-method`` runs it (in a process
that has imported the module).
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import import_module
from types import MappingProxyType

__all__ = ["Registry", "SelectorEntry", "EstimatorEntry", "SELECTORS", "ESTIMATORS"]


def _load(ref):
    """The object ``ref`` names: ``"module:Name"`` is imported, anything else returned."""
    if isinstance(ref, str):
        module, _, name = ref.partition(":")
        return getattr(import_module(module), name)
    return ref


def _ref_name(ref):
    """The class name ``ref`` refers to, without importing it."""
    return ref.rpartition(":")[2] if isinstance(ref, str) else ref.__name__


@dataclass(frozen=True)
class SelectorEntry:
    """A selector under a name: its class and the keyword arguments the name fixes.

    Parameters
    ----------
    name : str
        The name (``molselect select --method NAME``).
    ref : type or str
        The selector class, or ``"module:Class"`` to import on first use.
    params : mapping, optional
        Keyword arguments the name fixes (``beam-search-ps`` is
        ``BeamSearchSelector(criterion="performance+structure")``).
    description : str, optional
        What the selector scores, in reStructuredText: the docs' selector
        table shows it.
    """

    name: str
    ref: object
    params: Mapping = field(default_factory=dict)
    description: str = ""

    @property
    def cls(self):
        """type: The selector class (imported on first use)."""
        return _load(self.ref)

    @property
    def class_name(self):
        """str: The class's name, read without importing it."""
        return _ref_name(self.ref)

    def build(self, **params):
        """An instance with the name's fixed parameters and ``params``.

        Parameters
        ----------
        **params
            Further keyword arguments of the class.

        Returns
        -------
        BaseAuxiliarySelector
        """
        return self.cls(**self.params, **params)


@dataclass(frozen=True)
class EstimatorEntry:
    """A downstream model family under a name: its classifier, regressor and sizes.

    Parameters
    ----------
    name : str
        The name (``molselect evaluate --model NAME``).
    classifier, regressor : type or str
        The estimator classes, or ``"module:Class"`` to import on first use.
    presets : mapping, optional
        Preset name -> keyword arguments, for the presets other than
        ``"paper"`` (the classes' defaults, for every family).
    """

    name: str
    classifier: object
    regressor: object
    presets: Mapping = field(default_factory=dict)

    def estimator_class(self, classification):
        """The classifier (``classification=True``) or the regressor class.

        Parameters
        ----------
        classification : bool
            Whether the target's tasks are classification tasks.

        Returns
        -------
        type
        """
        return _load(self.classifier if classification else self.regressor)

    @property
    def classes(self):
        """tuple of type: The classifier and the regressor (imported on first use)."""
        return self.estimator_class(True), self.estimator_class(False)


class Registry(Mapping):
    """Named entries of one kind, in the order they were registered.

    Parameters
    ----------
    kind : str
        What the entries are (``"selector"``), for error messages.
    entry_type : type
        The entry class, built as ``entry_type(name, *args, **kwargs)``.
    """

    def __init__(self, kind, entry_type):
        self.kind = kind
        self.entry_type = entry_type
        self._entries = {}
        self._renamed = {}

    def add(self, name, *args, **kwargs):
        """Register an entry under ``name``.

        Parameters
        ----------
        name : str
            A name not registered yet.
        *args, **kwargs
            The entry's other fields (see the entry type).

        Returns
        -------
        entry
            The new entry.
        """
        if name in self._entries:
            raise ValueError(f"a {self.kind} named {name!r} is registered already")
        entry = self.entry_type(name, *args, **kwargs)
        self._entries[name] = entry
        return entry

    def register(self, name, **kwargs):
        """A class decorator that registers the class under ``name``.

        Parameters
        ----------
        name : str
            A name not registered yet.
        **kwargs
            The entry's other fields (a selector's fixed ``params`` and
            ``description``; an estimator family's ``regressor`` and
            ``presets``, the decorated class being its classifier).

        Returns
        -------
        callable
            The decorator; it returns the class unchanged.
        """
        def decorator(cls):
            self.add(name, cls, **kwargs)
            return cls
        return decorator

    def rename(self, old, new):
        """Keep ``old``, a former name of the entry ``new``, working with a warning.

        The old name is no key of the registry (listings and ``--help`` show
        the new one); looking it up gives the entry and a
        :class:`FutureWarning` naming the new one.

        Parameters
        ----------
        old : str
            The former name.
        new : str
            A registered name.
        """
        self[new]  # the error of an unknown name
        self._renamed[old] = new

    def current_name(self, name):
        """``name``, or the name that replaced it (with a :class:`FutureWarning`).

        Parameters
        ----------
        name : str

        Returns
        -------
        str
            A registered name when ``name`` is one or a former one, else ``name``
            unchanged (the caller's lookup then gives the error).
        """
        if name in self._entries or name not in self._renamed:
            return name
        new = self._renamed[name]
        warnings.warn(f"the {self.kind} {name!r} is renamed {new!r}; the old name will be "
                      "removed in a future release", FutureWarning, stacklevel=3)
        return new

    def remove(self, name):
        """Unregister ``name`` (tests register and remove a selector of their own).

        Parameters
        ----------
        name : str
            A registered name.
        """
        self[name]  # the error of an unknown name
        del self._entries[name]

    def __getitem__(self, name):
        try:
            return self._entries[self.current_name(name)]
        except KeyError:
            raise KeyError(f"unknown {self.kind} {name!r}; choose one of "
                           f"{', '.join(self._entries)}") from None

    def __contains__(self, name):
        # Mapping's would look the name up, and warn about a former name.
        return name in self._entries

    def __iter__(self):
        return iter(list(self._entries))

    def __len__(self):
        return len(self._entries)

    def __repr__(self):
        return f"Registry({self.kind!r}, {list(self._entries)})"


#: The selectors, under their ``molselect select --method`` names.
SELECTORS = Registry("selector", SelectorEntry)

#: The downstream model families, under their ``--model`` names.
ESTIMATORS = Registry("model", EstimatorEntry)

SELECTORS.add("molgroup", "molselect.selectors.molgroup:MolGroupSelector", description=(
    "The learned gate of the routed GIN (see :ref:`method`); iterative filtering decides "
    "the selection.  ``history_`` per round and epoch."))
SELECTORS.add("beam-search", "molselect.selectors.beam_search:BeamSearchSelector",
              {"criterion": "performance"}, description=(
                  "Target validation loss after a short training on each combination "
                  "(criterion P), or that averaged with the fingerprint-distribution "
                  "difference (P+S); width 3, depth 3.  Costly: it trains one model per "
                  "combination."))
SELECTORS.add("beam-search-ps", "molselect.selectors.beam_search:BeamSearchSelector",
              {"criterion": "performance+structure"})
SELECTORS.add("tag", "molselect.selectors.tag:TAGSelector", description=(
    "TAG's lookahead inter-task affinity (Fifty et al. 2021): how much a virtual step on the "
    "auxiliary's loss lowers the target's loss.  The virtual step is the one the Adam "
    "optimiser would take for that gradient, as the authors' code follows its optimiser; "
    "``lookahead_lr=lr`` gives the earlier plain SGD step."))
SELECTORS.add("task2vec", "molselect.selectors.task2vec:Task2VecSelector", description=(
    "Distance between Fisher embeddings of a GIN probe (Achille et al. 2019), asymmetric "
    "as in Task2vec.  The decoders are fitted on the features the Fisher pass "
    "differentiates: each dataset at its own frozen batch-norm statistics, no dropout."))
SELECTORS.add("mtdnn", "molselect.selectors.mtdnn:MTDNNSelector", description=(
    "A dataset discriminator; keeps the auxiliary molecules it classifies as target with "
    "probability above 0.6.  By default a logistic regression, target against the pooled "
    "auxiliaries, on the trained encoder's frozen embeddings, weighted to even odds, so "
    "that 0.6 means \"1.5 times as typical of the target as of the average auxiliary\" "
    "(Kung et al.'s selection by feature similarity).  ``discriminator=\"joint\"`` is the "
    "earlier (M+1)-way softmax trained into the encoder, under which a molecule as typical "
    "of the target as of its own source scores at most 0.5 and little or nothing is "
    "kept."))
SELECTORS.add("all-candidates", "molselect.selectors.simple:AllAuxiliariesSelector",
              description="Every candidate (the paper's Unweighted Average baseline).")
# "all" was ambiguous beside --candidates all (every registry dataset).
SELECTORS.rename("all", "all-candidates")
SELECTORS.add("fingerprint", "molselect.selectors.simple:FingerprintSimilaritySelector",
              description=("Negative KL divergence between MACCS-bit distributions (paper "
                           "section 3).  No training: seconds."))
SELECTORS.add("random", "molselect.selectors.simple:RandomSelector", description=(
    "``top_k`` candidates at random: a floor for the others."))
SELECTORS.add("subset-effects", "molselect.evaluation._subsets:SubsetEffectsSelector",
              description=(
    "Each candidate's main effect on the target's test score, from downstream fits on "
    "designed subsets of the candidates (random halves or an orthogonal design with its "
    "fold-over), by least squares, with intervals.  Every fit informs every candidate "
    "(Data Banzhaf's estimator).  Cost: ``n_runs`` downstream fits."))
SELECTORS.add("task-type", "molselect.selectors.task_type:TaskTypeSelector", description=(
    "Candidates of the target's task type first (the share of their tasks of that type), "
    "ties in a seeded random order.  No training, no molecules: the metadata floor that no "
    "trained selector has been measured to beat, and the default ranking that "
    "``--verify`` races."))

# The estimators train longer than a MolGroup round (every epoch is one pass, not a round
# of filtering), so their "fast" sizes are their own rather than ``PRESETS["fast"]``.
ESTIMATORS.add("gin", "molselect.models.gin:GINClassifier", "molselect.models.gin:GINRegressor",
               MappingProxyType({"fast": {"hidden_dim": 64, "num_layers": 3, "epochs": 20}}))
ESTIMATORS.add("graphormer", "molselect.models.graphormer:GraphormerClassifier",
               "molselect.models.graphormer:GraphormerRegressor",
               MappingProxyType({"fast": {"hidden_dim": 64, "num_layers": 3, "num_heads": 4,
                                          "epochs": 10}}))
