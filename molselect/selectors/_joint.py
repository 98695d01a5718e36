"""The selectors that score candidates from one network trained on the target and all of them.

TAG, Task2vec and MTDNN share their first steps: one table of the target and
every candidate, the seed, a GIN with a head per dataset (or MTDNN's
discriminator variant) on the device, and the same backbone and runtime
parameters.  :class:`JointTrainingSelector` does those steps and hands the
result to the subclass's :meth:`~JointTrainingSelector._score_joint`, as
scikit-learn's ``_BaseFilter`` sits between ``SelectorMixin`` and
``SelectKBest``.
"""

from __future__ import annotations

from abc import abstractmethod

from .._param_validation import BACKBONE, BACKBONE_KEYS, POSITIVE_INT, RUNTIME
from ..base import TOP_K, BaseAuxiliarySelector
from ..core import MultiDatasetNetwork, resolve_device, seed_everything
from ..core.joint import joint_gin
from ..core.prepare import build_table

__all__ = ["JointTrainingSelector"]


class JointTrainingSelector(BaseAuxiliarySelector):
    """Base of the selectors that train one network on the target and every candidate.

    Subclasses set ``_network`` (a class built as ``_network(encoder,
    n_tasks)`` over a GIN encoder; :class:`~molselect.core.MultiDatasetNetwork`
    by default), declare their own parameters on top of these, and implement
    ``_score_joint(target, names, table, classification, model, rng, device)``
    returning a :class:`~molselect.base.SelectionResult`.
    """

    _parameter_constraints = {
        **BaseAuxiliarySelector._parameter_constraints,
        "top_k": TOP_K,
        "n_repeats": [POSITIVE_INT],
        **BACKBONE,
        **RUNTIME,
    }
    _network = MultiDatasetNetwork
    # A preset's repeats too (the "stable" preset's 4): one network's scores are cheap
    # enough to repeat, and the table then carries intervals.  Beam search, which trains
    # one network per combination, takes the backbone only.
    _preset_keys = (*BACKBONE_KEYS, "n_repeats")

    def _score_candidates(self, target, candidates, eval_sets):
        names = list(candidates)
        datasets = [target] + [candidates[n] for n in names]
        device = resolve_device(self.device)
        table, classification, _ = build_table(datasets)
        # Seeded after the table is built and before the network is initialised: the
        # order in which every seeded result so far was computed.
        rng = seed_everything(self._training_seed())
        model = joint_gin([d.n_tasks for d in datasets], self.hidden_dim, self.num_layers,
                          self.dropout, network=self._network).to(device)
        return self._score_joint(target, names, table, [c.to(device) for c in classification],
                                 model, rng, device)

    @abstractmethod
    def _score_joint(self, target, names, table, classification, model, rng, device):
        """Train ``model`` and score the candidates.

        Parameters
        ----------
        target : MoleculeDataset
            The target's training data.
        names : list of str
            The candidates, in the order given; table dataset ``d + 1`` is ``names[d]``
            (dataset 0 is the target).
        table : molselect.core.GraphTable
            The target and every candidate.
        classification : list of torch.BoolTensor
            Per dataset, which tasks are classification tasks (on ``device``).
        model : torch.nn.Module
            The freshly initialised ``_network``, on ``device``.
        rng : numpy.random.Generator
            The training's sampling generator.
        device : torch.device

        Returns
        -------
        SelectionResult
        """
