"""From labelled SMILES arrays to a :class:`~molselect.core.data.GraphTable`.

Featurization is cached on disk per dataset (keyed by content), so repeated
rounds, selectors and estimators over the same datasets featurize once.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from ..featurize import featurize, maccs_fingerprints
from ..featurize._smiles import blank_smiles
from .data import GraphTable

__all__ = ["LabelScaler", "build_table"]


@dataclass
class LabelScaler:
    """Standardises regression columns (classification columns pass through).

    Regression labels span very different scales (qm9's energies are in the
    hundreds of Hartree, ESOL's log-solubilities near 0); standardising them
    per task keeps one dataset's MSE from drowning the others in a joint loss.
    """

    mean: np.ndarray
    scale: np.ndarray

    @classmethod
    def fit(cls, y, classification):
        """Per-task mean/std of the regression columns of ``y`` (NaN-aware)."""
        y = np.asarray(y, dtype=np.float64)
        regression = ~np.asarray(classification, dtype=bool)
        mean = np.zeros(y.shape[1])
        scale = np.ones(y.shape[1])
        if regression.any() and y.shape[0]:
            cols = y[:, regression]
            with np.errstate(all="ignore"), _quiet_nan_warnings():
                m = np.nanmean(cols, axis=0)
                s = np.nanstd(cols, axis=0)
            mean[regression] = np.nan_to_num(m)
            scale[regression] = np.where(np.isfinite(s) & (s > 0), s, 1.0)
        return cls(mean, scale)

    @classmethod
    def identity(cls, n_tasks):
        """A scaler that leaves every column as it is (raw labels, as the reference code)."""
        return cls(np.zeros(n_tasks), np.ones(n_tasks))

    def transform(self, y):
        """Scale labels for training."""
        return (np.asarray(y, dtype=np.float64) - self.mean) / self.scale

    def inverse_transform(self, y):
        """Bring model outputs back to label units."""
        return np.asarray(y, dtype=np.float64) * self.scale + self.mean


class _quiet_nan_warnings:
    def __enter__(self):
        import warnings

        self._ctx = warnings.catch_warnings()
        self._ctx.__enter__()
        warnings.simplefilter("ignore", RuntimeWarning)

    def __exit__(self, *exc):
        return self._ctx.__exit__(*exc)


def build_table(datasets, fingerprints=False, scalers=None, encoder_inputs=None, n_jobs=None,
                verbose=False):
    """Featurize datasets (target first) into a GraphTable.

    Parameters
    ----------
    datasets : list of MoleculeDataset-like
        Objects with ``ids`` (SMILES), ``y`` (NaN = missing) and ``task_types``.
    fingerprints : bool
        Also compute MACCS fingerprints (for the MolGroup gate).
    scalers : list of LabelScaler, optional
        Label scalers to apply; fitted on each dataset when omitted.
    encoder_inputs : callable, optional
        Passed to :class:`GraphTable` (encoder-specific batch inputs).
    n_jobs : int, optional
        Featurization workers.
    verbose : bool
        Featurization progress.

    Returns
    -------
    table : GraphTable
    classification : list of BoolTensor
        Per dataset, which tasks are classification tasks.
    scalers : list of LabelScaler
    """
    graphs, labels, fps, masks, fitted = [], [], [], [], []
    for i, data in enumerate(datasets):
        smiles = np.asarray(data.ids, dtype=object)
        # Molecules to predict come without a name: call them what they are.
        role = "target" if i == 0 else "auxiliary"
        where = f"{role} dataset {data.name!r}" if data.name else "the molecules given"
        empty = blank_smiles(smiles)
        if empty.size:
            raise ValueError(
                f"{where}: {empty.size} empty SMILES at positions "
                f"{', '.join(map(str, empty[:10]))}; remove them (from_frame / from_csv "
                "drop them with on_invalid='drop')")
        try:
            graphs.append(featurize(smiles, n_jobs=n_jobs, verbose=verbose))
        except ValueError as exc:
            # featurize() knows positions, not which of the datasets (target or which
            # auxiliary) they are in.
            raise ValueError(f"{where}: {exc}") from None
        clf = np.array([t == "classification" for t in data.task_types])
        scaler = scalers[i] if scalers is not None else LabelScaler.fit(data.y, clf)
        fitted.append(scaler)
        labels.append(scaler.transform(data.y))
        masks.append(torch.as_tensor(clf))
        if fingerprints:
            fps.append(maccs_fingerprints(smiles, n_jobs=n_jobs))
    table = GraphTable(graphs, labels, fps if fingerprints else None,
                       encoder_inputs=encoder_inputs)
    return table, masks, fitted
