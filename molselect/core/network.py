"""The multi-dataset network: one encoder shared by every dataset, one head per dataset.

:class:`MultiDatasetNetwork` is the model of the downstream estimators (GIN or
Graphormer encoder) and of the baseline selectors (beam search, TAG,
Task2vec's probe, MTDNN; a GIN encoder).  The encoder decides how a mixed
batch is embedded (its ``encode``); the network splits the embeddings by
dataset and decodes each block with its dataset's linear head.
"""

from __future__ import annotations

from torch import nn

from .heads import MultiHead

__all__ = ["MultiDatasetNetwork"]


class MultiDatasetNetwork(nn.Module):
    """An encoder shared by every dataset plus one linear head per dataset.

    A GIN encoder normalises each dataset's rows of a mixed batch with that
    dataset's own batch statistics, and only the target's update the running
    statistics that prediction uses (as the MolGroup reference code's
    training script does): otherwise an auxiliary would change the target's
    predictions through the normalisation alone, and every "does this
    auxiliary help" number would carry that effect.  A dataset's loss thus
    depends on its own graphs only, and a target-only forward pass normalises
    exactly as the mixed one.  Graphormer has layer norm only.

    Parameters
    ----------
    encoder : torch.nn.Module
        With a ``hidden_dim`` attribute and ``encode(batch, update_running)``
        returning the graph embeddings, shape (num_graphs, hidden_dim), of a
        :class:`~molselect.core.data.MixedBatch` (or a view of some of its
        datasets): :class:`~molselect.core.gin.GINEncoder` or
        :class:`~molselect.core.graphormer.GraphormerEncoder`.
    n_tasks : list of int
        Number of tasks of each dataset, target first.

    Attributes
    ----------
    encoder : torch.nn.Module
    heads : MultiHead
    """

    def __init__(self, encoder, n_tasks):
        super().__init__()
        self.encoder = encoder
        self.heads = MultiHead(encoder.hidden_dim, n_tasks)

    def embed(self, batch, update_running=True):
        """Graph embeddings of a mixed batch (or a view of it), shape (num_graphs, hidden_dim).

        Parameters
        ----------
        batch : MixedBatch or GraphView
        update_running : bool, default=True
            Whether a training-mode forward pass updates batch norm's running
            statistics (False for the virtual steps of lookahead and Fisher
            computations, which must leave the model as it was).

        Returns
        -------
        Tensor of shape (num_graphs, hidden_dim)
        """
        return self.encoder.encode(batch, update_running)

    def forward(self, batch, update_running=True, first=0):
        """Per-dataset predictions: a list with one (n_d, n_tasks_d) tensor per dataset.

        Parameters
        ----------
        batch : MixedBatch or GraphView
        update_running : bool, default=True
            As :meth:`embed`.
        first : int, default=0
            The dataset id of the batch's first block (for views that start
            after the target).

        Returns
        -------
        list of Tensor
        """
        return self.heads(self.embed(batch, update_running), batch.graph_counts, first=first)

    def encoder_parameters(self):
        """Named parameters of the shared encoder (prefixed as in ``named_parameters``).

        Returns
        -------
        dict of str to torch.nn.Parameter
        """
        return {f"encoder.{k}": v for k, v in self.encoder.named_parameters()}
