"""Saving and loading what a graph estimator has learned.

Two forms, both of CPU tensors so that a model fitted on CUDA loads on a
CPU-only machine:

* an *encoder checkpoint* (:func:`save_encoder`, :func:`load_encoder`): the
  shared encoder's state dict and the hyper-parameters that fix its tensor
  shapes, in a ``torch.save`` file read back with ``weights_only=True``.  It
  is what ``pretrained=`` fine-tunes from; the decoder heads are not in it
  (fine-tuning gives each member a new head);
* a *pickled network* (:func:`network_state`, :func:`network_from_state`):
  the head sizes and the whole network's state dict, which an estimator's
  ``__getstate__`` puts in place of the module;
* a *model file* (:func:`save_model`, :func:`load_model`): a whole fitted
  estimator and what it was trained on, as ``molselect train`` writes it and
  ``molselect predict`` reads it.
"""

from __future__ import annotations

from pathlib import Path

import torch

__all__ = ["CHECKPOINT_FORMAT", "MODEL_FORMAT", "load_encoder", "load_model",
           "network_from_state", "network_state", "save_encoder", "save_model"]

#: Format tag of an encoder checkpoint.
CHECKPOINT_FORMAT = "molselect-encoder-v1"
#: Format tag of a model file (:func:`save_model`).
MODEL_FORMAT = "molselect-model-v1"


def _cpu_state(module):
    return {k: v.detach().cpu() for k, v in module.state_dict().items()}


def save_encoder(estimator, path):
    """Save a fitted estimator's encoder and shape hyper-parameters to ``path``.

    Parameters
    ----------
    estimator : BaseGraphEstimator
        Fitted; its ``_encoder_name`` and ``_shape_params`` are recorded.
    path : str or path-like
        The file; missing parent folders are made.

    Returns
    -------
    pathlib.Path
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save({
        "format": CHECKPOINT_FORMAT,
        "encoder": estimator._encoder_name,
        "config": {name: getattr(estimator, name) for name in estimator._shape_params},
        "state_dict": _cpu_state(estimator.model_.encoder),
    }, path)
    return path


def load_encoder(estimator, encoder, path):
    """Load the checkpoint ``path`` into ``encoder``, after checking it fits ``estimator``.

    Parameters
    ----------
    estimator : BaseGraphEstimator
        Whose architecture (``_encoder_name``) and shape hyper-parameters the
        checkpoint must match.
    encoder : torch.nn.Module
        The freshly built encoder to load into.
    path : str or path-like

    Raises
    ------
    FileNotFoundError
        When ``path`` does not exist.
    ValueError
        When the file is not a molselect encoder checkpoint, holds another
        architecture, was saved with other shape hyper-parameters or by a
        molselect that did not record them all, or does not fit ``encoder``.
    """
    try:
        checkpoint = torch.load(path, map_location="cpu", weights_only=True)
    except FileNotFoundError:
        raise FileNotFoundError(f"pretrained encoder file {str(path)!r} does not exist") from None
    if not isinstance(checkpoint, dict) or checkpoint.get("format") != CHECKPOINT_FORMAT:
        raise ValueError(f"{str(path)!r} is not an encoder saved by molselect "
                         "(save one with pretrain() or save_encoder())")
    if checkpoint["encoder"] != estimator._encoder_name:
        raise ValueError(f"{str(path)!r} holds a {checkpoint['encoder']} encoder; "
                         f"{type(estimator).__name__} needs a {estimator._encoder_name} encoder")
    saved = checkpoint["config"]
    missing = [k for k in estimator._shape_params if k not in saved]
    if missing:
        raise ValueError(f"the pretrained encoder {str(path)!r} was saved by an earlier "
                         f"molselect, which did not record {', '.join(missing)}; save it again "
                         "(pretrain() or save_encoder())")
    mismatch = {k: (v, getattr(estimator, k)) for k, v in saved.items()
                if getattr(estimator, k) != v}
    if mismatch:
        detail = ", ".join(f"{k}={saved!r} (here {mine!r})"
                           for k, (saved, mine) in mismatch.items())
        raise ValueError(f"the pretrained encoder {str(path)!r} was saved with {detail}; "
                         "set the same hyper-parameters to fine-tune it")
    try:
        encoder.load_state_dict(checkpoint["state_dict"])
    except RuntimeError as exc:
        raise ValueError(f"the pretrained encoder {str(path)!r} does not fit this "
                         f"architecture: {exc}") from None


def network_state(network):
    """What a pickle keeps of a fitted network: its head sizes and CPU state dict.

    Parameters
    ----------
    network : torch.nn.Module
        Encoder plus ``heads`` (a :class:`~molselect.core.heads.MultiHead`).

    Returns
    -------
    dict
        ``n_tasks`` (outputs of each head) and ``state_dict``.
    """
    return {"n_tasks": [h.out_features for h in network.heads.heads],
            "state_dict": _cpu_state(network)}


def network_from_state(estimator, state):
    """Rebuild the network that :func:`network_state` described, in eval mode.

    Parameters
    ----------
    estimator : BaseGraphEstimator
        Its hyper-parameters build the network (``_build_network``).
    state : dict
        From :func:`network_state`.

    Returns
    -------
    torch.nn.Module
    """
    network = estimator._build_network(state["n_tasks"])
    network.load_state_dict(state["state_dict"])
    return network.eval()


def save_model(estimator, path, *, info=None, inputs=()):
    """Save a fitted estimator, with what it was trained on, to one file.

    The file is a joblib pickle of the estimator (its network as CPU
    tensors, so a model fitted on CUDA loads on a CPU-only machine) and
    ``info``; :func:`load_model` reads it back.  It is written atomically
    (:func:`molselect._files.atomic_write`).

    Parameters
    ----------
    estimator : BaseGraphEstimator
        Fitted.
    path : str or path-like
        The file (``model.joblib``); its folder must exist.
    info : dict, optional
        What the model is (target, auxiliaries, test score ...): JSON-able
        values, kept beside the estimator.
    inputs : iterable of path-like, optional
        The run's input files, which are never overwritten.

    Returns
    -------
    pathlib.Path
    """
    import joblib
    from sklearn.utils.validation import check_is_fitted

    from .. import __version__
    from .._files import atomic_write

    check_is_fitted(estimator, "model_")
    payload = {"format": MODEL_FORMAT, "molselect": __version__, "estimator": estimator,
               "info": dict(info or {})}
    return atomic_write(path, lambda handle: joblib.dump(payload, handle), inputs=inputs)


def load_model(path):
    """The estimator and information that :func:`save_model` saved to ``path``.

    A model file is a pickle: loading one runs code it holds, so load only
    files of your own or of someone you trust (as with any pickled
    scikit-learn model).

    Parameters
    ----------
    path : str or path-like

    Returns
    -------
    estimator : BaseGraphEstimator
        Fitted, its network on the CPU.
    info : dict
        ``info`` as saved, plus ``"molselect"``: the version that saved it.

    Raises
    ------
    FileNotFoundError
        When ``path`` does not exist.
    ValueError
        When the file is not a model saved by molselect (another pickle,
        a table, an encoder checkpoint, a damaged file).
    """
    import joblib

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no such model file: {path}")
    not_a_model = (f"{path} is not a model saved by molselect (save one with `molselect "
                   "train --out FILE` or molselect.models.save_model)")
    from ._base import BaseGraphEstimator

    try:
        payload = joblib.load(path)
    except Exception as exc:  # noqa: BLE001 - whatever unpickling a foreign file raises
        raise ValueError(f"{not_a_model}: it cannot be read as one "
                         f"({type(exc).__name__}: {exc})") from None
    if not isinstance(payload, dict) or payload.get("format") != MODEL_FORMAT or \
            not isinstance(payload.get("estimator"), BaseGraphEstimator):
        raise ValueError(not_a_model)
    return payload["estimator"], {**payload.get("info", {}), "molselect": payload["molselect"]}
