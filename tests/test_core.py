"""The torch core: gate, routing, meta-gradient, batch norm, sampling, batching."""

import copy

import numpy as np
import pandas as pd
import pytest
import torch

from molselect.core import (BalancedSampler, Gate, GINEncoder, MolGroupModel, MolGroupStep,
                            masked_loss)
from molselect.core.dropout import dropout
from molselect.core.prepare import build_table
from molselect.core.routed import grouped_linear
from molselect.datasets._base import MoleculeDataset
from molselect.featurize import ATOM_FEATURE_DIMS as ATOM_DIMS
from molselect.featurize import featurize
from molselect.selectors.molgroup import filter_candidates


def _datasets(smiles, n_aux=2, seed=0):
    rng = np.random.default_rng(seed)
    target = MoleculeDataset(smiles, rng.integers(0, 2, (len(smiles), 1)), name="t")
    aux = [MoleculeDataset(smiles[::-1], rng.normal(size=(len(smiles), 2)), name=f"a{i}",
                           task_types="regression") for i in range(n_aux)]
    return [target] + aux


def _tiny(smiles, n_aux=2, dtype=torch.float64, dropout=0.0):
    data = _datasets(smiles, n_aux)
    table, clf, _ = build_table(data, fingerprints=True)
    torch.manual_seed(0)
    model = MolGroupModel([d.n_tasks for d in data], hidden_dim=8, num_layers=2,
                          dropout=dropout).to(dtype)
    sizes = [len(d) for d in data]
    batch = table.batch([np.arange(n) for n in sizes])
    batch.fingerprints = batch.fingerprints.to(dtype)
    batch.y = [y.to(dtype) for y in batch.y]
    return model, clf, batch


def test_gate_starts_at_half_with_zero_task_cosine():
    gate = Gate(n_auxiliaries=4, balance=1.0)
    fp = torch.rand(10, 167)
    ids = torch.tensor([0, 0, 1, 1, 2, 2, 3, 3, 4, 4])
    a, task, _ = gate(fp, ids)
    assert torch.allclose(task, torch.zeros(4), atol=1e-6)
    assert torch.allclose(a, torch.full((4,), 0.5), atol=1e-6)
    # Every auxiliary starts from the same task embedding.
    assert torch.equal(gate.task_embedding[1], gate.task_embedding[4])


def test_gate_fuses_task_and_structure_with_temperature():
    gate = Gate(n_auxiliaries=2, balance=0.9, temperature=0.1)
    a, task, struct = gate(torch.rand(6, 167), torch.tensor([0, 0, 1, 1, 2, 2]))
    expected = torch.sigmoid((0.9 * task + 0.1 * struct) / 0.1)
    assert torch.allclose(a, expected)
    assert ((struct >= -1 - 1e-6) & (struct <= 1 + 1e-6)).all()


def test_grouped_linear_matches_blockwise_matmul():
    torch.manual_seed(0)
    x = torch.randn(9, 4)
    w, b = torch.randn(3, 4, 5), torch.randn(3, 5)
    counts = [2, 0, 7]
    out = grouped_linear(x, counts, w, b)
    expected = torch.cat([x[:2] @ w[0] + b[0], x[2:] @ w[2] + b[2]])
    assert torch.allclose(out, expected, atol=1e-6)


def test_open_gate_routes_auxiliary_through_target_parameters(small_smiles):
    model, _, batch = _tiny(small_smiles, n_aux=1)
    model.eval()
    model.routed.train()  # batch statistics, as in training
    open_gate = torch.ones(1, dtype=torch.float64)
    _, emb_aux = model.routed(batch, open_gate)
    view = batch.graph_view(1)
    expected = model.routed.target(view, update_running=False)
    assert torch.allclose(emb_aux, expected, atol=1e-8)


def test_closed_gate_makes_auxiliary_independent_of_target(small_smiles):
    model, _, batch = _tiny(small_smiles)
    _, emb_aux = model.routed(batch, torch.zeros(2, dtype=torch.float64))
    grads = torch.autograd.grad(emb_aux.sum(), list(model.routed.target.parameters()),
                                allow_unused=True)
    assert all(g is None or torch.count_nonzero(g) == 0 for g in grads)


def _meta_objective(model, step, batch):
    gate, _, _ = model.gate(batch.fingerprints, batch.graph_dataset)
    _, emb_aux = model.routed(batch, gate)
    preds = model.heads(emb_aux, batch.graph_counts[1:], first=1)
    losses = [masked_loss(p, y, c)[0] for p, y, c in zip(preds, batch.y[1:], step.classification[1:])]
    aux_mean = torch.stack(losses).mean()
    grads = torch.autograd.grad(aux_mean, step._target_params, create_graph=True)
    return grads


def test_meta_gradient_matches_finite_differences(small_smiles):
    model, clf, batch = _tiny(small_smiles)
    step = MolGroupStep(model, clf, lr=1e-3, meta_lr=0.5, meta_gradient="exact")
    grads = _meta_objective(model, step, batch)
    analytic = step.gate_gradient_through(batch, grads)
    params = model.gate_parameters()

    def objective():
        g = _meta_objective(model, step, batch)
        return step.virtual_target_loss(batch, g).item()

    rng = np.random.default_rng(0)
    checked = 0
    for p, a in zip(params, analytic):
        assert a is not None
        flat = p.data.view(-1)
        for k in rng.choice(flat.numel(), size=min(3, flat.numel()), replace=False):
            old = flat[k].item()
            eps = 1e-5
            flat[k] = old + eps
            up = objective()
            flat[k] = old - eps
            down = objective()
            flat[k] = old
            numeric = (up - down) / (2 * eps)
            assert numeric == pytest.approx(a.view(-1)[k].item(), rel=1e-4, abs=1e-9)
            checked += 1
    assert checked >= 6
    # The meta-gradient is not trivially zero: the gate does steer the target loss.
    assert any(torch.count_nonzero(a) > 0 for a in analytic)


def _flat(grads):
    return torch.cat([g.reshape(-1) for g in grads if g is not None])


def test_linearized_meta_gradient_is_the_exact_one_to_first_order(small_smiles):
    model, clf, batch = _tiny(small_smiles)

    def relative_gap(meta_lr):
        exact = MolGroupStep(model, clf, meta_lr=meta_lr, meta_gradient="exact")
        linearized = MolGroupStep(model, clf, meta_lr=meta_lr, meta_gradient="linearized")
        e = _flat(exact.gate_gradient_through(batch, _meta_objective(model, exact, batch)))
        grads = _meta_objective(model, linearized, batch)
        at_theta = exact.virtual_target_loss(batch, [torch.zeros_like(g) for g in grads])
        target_grads = torch.autograd.grad(at_theta, exact._target_params, allow_unused=True)
        lin = _flat(linearized.gate_gradient_through(batch, grads, target_grads))
        return ((e - lin).norm() / e.norm()).item()

    # The gap is of order meta_lr (while the virtual step flips no ReLU, which is
    # why the steps here are small): ten times smaller steps, ten times closer.
    gap, finer = relative_gap(1e-4), relative_gap(1e-5)
    assert 0 < finer < gap / 5
    assert gap < 1e-2


def test_molgroup_step_rejects_unknown_meta_gradient(small_smiles):
    model, clf, _ = _tiny(small_smiles)
    with pytest.raises(ValueError, match="meta_gradient must be"):
        MolGroupStep(model, clf, meta_gradient="second-order")


def test_virtual_step_leaves_batch_norm_statistics_alone(small_smiles):
    model, clf, batch = _tiny(small_smiles)
    step = MolGroupStep(model, clf)
    grads = _meta_objective(model, step, batch)
    buffers = {k: v.clone() for k, v in model.routed.target.named_buffers()}
    step.virtual_target_loss(batch, grads)
    for name, value in model.routed.target.named_buffers():
        assert torch.equal(value, buffers[name]), name


def test_auxiliaries_do_not_move_target_running_statistics(small_smiles):
    model, clf, batch = _tiny(small_smiles)
    target_only = GINEncoder(8, 2, 0.0).to(torch.float64)
    target_only.load_state_dict(model.routed.target.state_dict())
    model.routed(batch, torch.full((2,), 0.7, dtype=torch.float64))
    target_only(batch.graph_view(0, 1))
    for (name, a), (_, b) in zip(model.routed.target.named_buffers(), target_only.named_buffers()):
        assert torch.allclose(a, b), name


def test_molgroup_step_updates_gate_only_after_warmup(small_smiles):
    model, clf, batch = _tiny(small_smiles, dtype=torch.float32)
    batch.fingerprints = batch.fingerprints.float()
    batch.y = [y.float() for y in batch.y]
    model = model.float()
    step = MolGroupStep(model, clf, warmup_epochs=1)
    before = [p.detach().clone() for p in model.gate_parameters()]
    logs = step(batch, epoch=0)
    assert all(torch.equal(a, b) for a, b in zip(before, model.gate_parameters()))
    step(batch, epoch=1)
    assert any(not torch.equal(a, b) for a, b in zip(before, model.gate_parameters()))
    assert set(logs) >= {"loss", "target_loss", "gate", "task_affinity", "structure_affinity"}


def test_balanced_sampler_draws_n_target_times_datasets():
    sampler = BalancedSampler([50, 400, 10], batch_size=16, rng=np.random.default_rng(0))
    counts = np.zeros(3)
    seen_target = set()
    for step in sampler:
        counts += [len(i) for i in step]
        seen_target.update(step[0].tolist())
        assert all((i < n).all() for i, n in zip(step, [50, 400, 10]))
    assert counts.sum() == 50 * 3
    assert len(sampler) == int(np.ceil(150 / 16))
    assert counts.min() > 25  # each dataset about a third of the draws
    assert len(seen_target) > 35  # the target is walked through, not sampled with replacement


def test_graph_table_batch_matches_per_dataset_batches(small_smiles):
    graphs = [featurize(small_smiles[:8]), featurize(small_smiles[8:])]
    from molselect.core.data import GraphTable

    table = GraphTable(graphs, [np.zeros((8, 1)), np.ones((12, 2))])
    idx = [np.array([3, 0, 5]), np.array([11, 2])]
    batch = table.batch(idx)
    parts = [g.batch(i) for g, i in zip(graphs, idx)]
    assert torch.equal(batch.x, torch.cat([p.x for p in parts]))
    offset = parts[0].num_nodes
    assert torch.equal(batch.edge_index, torch.cat([parts[0].edge_index,
                                                    parts[1].edge_index + offset], 1))
    assert batch.graph_counts == [3, 2]
    assert batch.y[1].shape == (2, 2)
    view = batch.graph_view(1)
    assert torch.equal(view.x, parts[1].x)
    assert torch.equal(view.edge_index, parts[1].edge_index)


def test_masked_loss_ignores_missing_labels():
    pred = torch.tensor([[0.0, 1.0], [2.0, -1.0]])
    y = torch.tensor([[1.0, float("nan")], [float("nan"), 3.0]])
    loss, n = masked_loss(pred, y, torch.tensor([True, False]))
    bce = torch.nn.functional.binary_cross_entropy_with_logits(torch.tensor(0.0), torch.tensor(1.0))
    assert n == 2
    assert loss.item() == pytest.approx((bce.item() + 16.0) / 2)


@pytest.mark.parametrize("affinity, final, top_k, survivors, dropped", [
    ({"a": 0.9, "b": 0.5, "c": 0.7}, False, 3, ["a", "c"], ["b"]),      # threshold
    ({"a": 0.9, "b": 0.8, "c": 0.7, "d": 0.65}, False, 3, ["a", "b", "c"], ["d"]),  # drop lowest
    ({"a": 0.9, "b": 0.8, "c": 0.7}, False, 3, ["a", "b", "c"], []),   # never below top_k
    ({"a": 0.7, "b": 0.9, "c": 0.8, "d": 0.95}, True, 3, ["d", "b", "c"], ["a"]),  # top_k
    ({"a": 0.1, "b": 0.2}, True, 3, [], ["b", "a"]),                    # none helps
])
def test_filter_candidates(affinity, final, top_k, survivors, dropped):
    kept, out = filter_candidates(pd.Series(affinity), 0.6, final, top_k)
    assert kept == survivors
    assert sorted(out) == sorted(dropped)


@pytest.mark.parametrize("p", [0.1, 0.5, 0.9])
def test_dropout_drops_at_rate_p_and_rescales(p):
    torch.manual_seed(0)
    out = dropout(torch.ones(400_000), p)
    assert abs((out == 0).float().mean().item() - p) < 0.005
    kept = out[out != 0]
    assert torch.allclose(kept, torch.full_like(kept, 1 / (1 - p)))


def test_dropout_is_seeded_identity_in_eval_and_twice_differentiable():
    x = torch.randn(50, 7, dtype=torch.float64, requires_grad=True)
    assert dropout(x, 0.5, training=False) is x
    torch.manual_seed(3)
    first = dropout(x, 0.5)
    torch.manual_seed(3)
    assert torch.equal(first, dropout(x, 0.5))
    (g,) = torch.autograd.grad((first ** 2).sum(), x, create_graph=True)
    (gg,) = torch.autograd.grad(g.sum(), x)
    mask = (first != 0).double()
    assert torch.allclose(gg, 2 * mask * 4)  # d2/dx2 of (2 x m)^2 summed
    assert torch.equal(dropout(x, 1.0), torch.zeros_like(x))
    with pytest.raises(ValueError, match=r"in \[0, 1\]"):
        dropout(x, 1.5)


def test_one_atom_block_in_a_training_batch(small_smiles):
    # A step's batch can hold a single one-atom molecule of a dataset (methane,
    # a chloride ion), most often in an epoch's short last batch: its batch norm
    # sees one row, whose normalised value is 0, so the layer outputs the shift.
    data = _datasets(small_smiles)
    data[1] = MoleculeDataset(["C", "[Cl-]"], np.array([[0.5, 1.0], [1.5, -1.0]]), name="a0",
                              task_types="regression")
    table, clf, _ = build_table(data, fingerprints=True)
    torch.manual_seed(0)
    model = MolGroupModel([d.n_tasks for d in data], hidden_dim=8, num_layers=2, dropout=0.0)
    step = MolGroupStep(model, clf, warmup_epochs=0)
    batch = table.batch([np.arange(3), np.array([0]), np.arange(2)])
    assert batch.node_counts[1] == 1
    logs = step(batch, epoch=1)
    assert torch.isfinite(logs["loss"]) and torch.isfinite(logs["gate"]).all()
    grads = step.gate_gradient(batch)
    assert all(g is None or torch.isfinite(g).all() for g in grads)
    encoder = GINEncoder(8, 2, 0.0).train()
    running = [b.clone() for b in encoder.buffers()]
    alone = encoder(batch.graph_view(1, 2))
    assert torch.isfinite(alone).all()
    # One row carries no variance: the running statistics keep their values.
    assert all(torch.equal(a, b) for a, b in zip(running, encoder.buffers()) if a.is_floating_point())


# -- the reference code's behaviour, selectable ----------------------------------

def _fused_score(gate, task, struct):
    return (gate.balance * task + (1 - gate.balance) * struct) / gate.temperature


@pytest.mark.parametrize("structure", ["shared", "per_dataset"])
def test_reference_direction_reports_one_minus_the_sigmoid(structure):
    fp, ids = torch.rand(8, 167), torch.tensor([0, 0, 1, 1, 2, 2, 3, 3])
    torch.manual_seed(0)
    paper = Gate(3, structure=structure)
    torch.manual_seed(0)
    reference = Gate(3, structure=structure, direction="reference")
    a_paper, task, struct = paper(fp, ids)
    a_ref, task_ref, struct_ref = reference(fp, ids)
    # Same parameters, same cosines; the reference's target weight is 1 - sigmoid(score).
    assert torch.equal(task, task_ref) and torch.allclose(struct, struct_ref)
    assert torch.allclose(a_paper, torch.sigmoid(_fused_score(paper, task, struct)))
    assert torch.allclose(a_ref, 1 - torch.sigmoid(_fused_score(reference, task, struct)))
    assert torch.allclose(a_ref, 1 - a_paper)


def test_gate_rejects_unknown_direction_and_structure():
    with pytest.raises(ValueError, match="direction"):
        Gate(2, direction="target")
    with pytest.raises(ValueError, match="structure"):
        Gate(2, structure="pooled")


@pytest.mark.parametrize("direction, path", [("paper", "target"), ("reference", "own")])
def test_which_path_a_high_score_opens(small_smiles, direction, path):
    # Task embeddings made equal (cosine 1) and balance 1: score = 1 / 0.1 = 10, so
    # sigmoid(score) is 1 - 5e-5.  Eq. 2 puts it on the target's parameters; the
    # reference code's gate * f(theta_m) + (1 - gate) * f(theta_T) on the auxiliary's own.
    data = _datasets(small_smiles, n_aux=1)
    table, _, _ = build_table(data, fingerprints=True)
    torch.manual_seed(0)
    model = MolGroupModel([d.n_tasks for d in data], hidden_dim=8, num_layers=2, dropout=0.0,
                          balance=1.0, gate_direction=direction).double()
    with torch.no_grad():
        model.gate.task_embedding[1] = model.gate.task_embedding[0]
    batch = table.batch([np.arange(len(d)) for d in data])
    batch.fingerprints = batch.fingerprints.double()
    a, _, _ = model.gate(batch.fingerprints, batch.graph_dataset)
    _, routed = model.routed(batch, a)
    _, target_path = model.routed(batch, torch.ones(1, dtype=torch.float64))
    _, own_path = model.routed(batch, torch.zeros(1, dtype=torch.float64))
    expected, other = (target_path, own_path) if path == "target" else (own_path, target_path)
    assert torch.allclose(routed, expected, atol=1e-3)
    assert not torch.allclose(routed, other, atol=1e-2)


def test_molgroup_step_logs_the_target_weight_under_the_reference_direction(small_smiles):
    data = _datasets(small_smiles)
    table, clf, _ = build_table(data, fingerprints=True)
    torch.manual_seed(0)
    model = MolGroupModel([d.n_tasks for d in data], hidden_dim=8, num_layers=2,
                          gate_direction="reference")
    step = MolGroupStep(model, clf, warmup_epochs=0)
    batch = table.batch([np.arange(len(d)) for d in data])
    logs = step(batch, epoch=1)
    score = _fused_score(model.gate, logs["task_affinity"], logs["structure_affinity"])
    # The logged affinity is 1 - gate of the reference code: its keep rule gate <= 0.4
    # is affinity >= 0.6.
    assert torch.allclose(logs["gate"], 1 - torch.sigmoid(score), atol=1e-6)


def test_per_dataset_structure_has_one_one_step_set2set_per_dataset():
    torch.manual_seed(0)
    gate = Gate(3, structure="per_dataset")
    assert not hasattr(gate, "set2set")
    assert len(gate.set2sets) == 4 and all(s.processing_steps == 1 for s in gate.set2sets)
    assert Gate(3).set2set.processing_steps == 2  # the shared default is unchanged
    fp, ids = torch.rand(9, 167), torch.tensor([0, 0, 1, 1, 1, 2, 3, 3, 3])
    pooled = gate.structure_embeddings(fp, ids)
    assert pooled.shape == (4, 32)
    # Dataset d is pooled by Set2Set d over the L2-normalised W x_fp of its molecules.
    counts = [2, 3, 1, 3]
    for d, block in enumerate(torch.split(fp, counts)):
        x = torch.nn.functional.normalize(gate.fingerprint_projection(block), dim=-1)
        expected = gate.set2sets[d](x, index=torch.zeros(len(block), dtype=torch.long),
                                    dim_size=1)
        assert torch.allclose(pooled[d], expected[0], atol=1e-6)
    assert torch.allclose(gate.structure_embeddings(fp, ids, counts), pooled)


def test_per_dataset_structure_is_per_dataset_and_scale_free():
    base = torch.rand(2, 167)
    fp = torch.cat([base, base, base])  # the target and two auxiliaries with equal molecules
    ids = torch.tensor([0, 0, 1, 1, 2, 2])
    scaled = fp.clone()
    scaled[2] *= 3.0  # one molecule of auxiliary 1 with a longer W x_fp
    torch.manual_seed(0)
    shared = Gate(2)
    torch.manual_seed(0)
    per_dataset = Gate(2, structure="per_dataset")
    _, _, s_shared = shared(fp, ids)
    _, _, s_per = per_dataset(fp, ids)
    # One Set2Set for all: equal molecules, equal pools (cosine 1); one per dataset: not.
    assert torch.allclose(s_shared, torch.ones(2), atol=1e-5)
    assert not torch.allclose(s_per[0], s_per[1], atol=1e-4)
    # Per-molecule normalisation: the length of W x_fp does not matter, as it does raw.
    assert torch.allclose(per_dataset(scaled, ids)[2], s_per, atol=1e-6)
    assert not torch.allclose(shared(scaled, ids)[2], s_shared, atol=1e-4)
    # Auxiliary 1's structure cosine depends on the target's and its own Set2Set only.
    grads = torch.autograd.grad(s_per[0], list(per_dataset.set2sets.parameters()),
                                allow_unused=True)
    per_module = np.cumsum([0] + [len(list(s.parameters())) for s in per_dataset.set2sets])
    touched = [any(g is not None and torch.count_nonzero(g) > 0
                   for g in grads[per_module[d]:per_module[d + 1]]) for d in range(3)]
    assert touched == [True, True, False]


def test_per_dataset_structure_trains_with_an_absent_dataset(small_smiles):
    data = _datasets(small_smiles, n_aux=3)
    table, clf, _ = build_table(data, fingerprints=True)
    torch.manual_seed(0)
    model = MolGroupModel([d.n_tasks for d in data], hidden_dim=8, num_layers=2,
                          structure="per_dataset", gate_direction="reference")
    step = MolGroupStep(model, clf, warmup_epochs=0)
    batch = table.batch([np.arange(4), np.arange(3), np.array([], dtype=int), np.arange(5)])
    before = [p.detach().clone() for p in model.gate.set2sets.parameters()]
    logs = step(batch, epoch=1)
    assert torch.isfinite(logs["gate"]).all()
    assert logs["present"].tolist() == [1.0, 0.0, 1.0] and logs["gate"][1] == 0
    assert any(not torch.equal(a, b) for a, b in zip(before, model.gate.set2sets.parameters()))


def test_simple_feature_set_keeps_the_first_two_atom_and_bond_features():
    from molselect.core.gin import FEATURE_SETS, feature_dims
    from molselect.featurize import ATOM_FEATURE_DIMS, BOND_FEATURE_DIMS

    assert FEATURE_SETS == ("full", "simple")
    assert feature_dims() == (ATOM_FEATURE_DIMS, BOND_FEATURE_DIMS)
    assert feature_dims("simple") == (ATOM_FEATURE_DIMS[:2], BOND_FEATURE_DIMS[:2])
    with pytest.raises(ValueError, match="feature_set"):
        feature_dims("minimal")


def _scramble_extra_columns(batch, seed=0):
    """The batch with every atom feature after the 2nd and bond feature after the 2nd redrawn."""
    from molselect.featurize import ATOM_FEATURE_DIMS, BOND_FEATURE_DIMS

    g = torch.Generator().manual_seed(seed)
    other = copy.copy(batch)
    other.x, other.edge_attr = batch.x.clone(), batch.edge_attr.clone()
    for j, size in enumerate(ATOM_FEATURE_DIMS[2:], start=2):
        other.x[:, j] = torch.randint(size, (len(other.x),), generator=g)
    for j, size in enumerate(BOND_FEATURE_DIMS[2:], start=2):
        other.edge_attr[:, j] = torch.randint(size, (len(other.edge_attr),), generator=g)
    assert not torch.equal(other.x, batch.x)
    return other


def test_simple_features_ignore_atom_and_bond_columns_after_the_second(small_smiles):
    graphs = featurize(small_smiles)
    batch = graphs.batch(np.arange(len(small_smiles)))
    other = _scramble_extra_columns(batch)
    torch.manual_seed(0)
    simple = GINEncoder(8, 2, 0.0, feature_set="simple").eval()
    assert simple.atom_embedding.weight.shape == (119 + 5, 8)
    assert simple.layers[0].bond_embedding.weight.shape == (5 + 6, 8)
    assert torch.equal(simple(batch), simple(other))
    full = GINEncoder(8, 2, 0.0).eval()
    assert full.atom_embedding.weight.shape[0] == sum(ATOM_DIMS)
    assert not torch.allclose(full(batch), full(other))


def test_routed_gin_with_simple_features(small_smiles):
    model, clf, batch = _tiny(small_smiles)
    torch.manual_seed(0)
    simple = MolGroupModel([1, 2, 2], hidden_dim=8, num_layers=2, dropout=0.0,
                           feature_set="simple").double()
    assert simple.routed.aux_atom_embedding.shape == (2, 119 + 5, 8)
    assert simple.routed.aux_layers[0].bond_embedding.shape == (2, 5 + 6, 8)
    assert model.routed.aux_atom_embedding.shape == (2, sum(ATOM_DIMS), 8)
    gate = torch.tensor([0.3, 0.8], dtype=torch.float64)
    other = _scramble_extra_columns(batch)
    t1, a1 = simple.routed(batch, gate)
    t2, a2 = simple.routed(other, gate)
    assert torch.allclose(t1, t2) and torch.allclose(a1, a2)
    assert not torch.allclose(model.routed(batch, gate)[1], model.routed(other, gate)[1])
    step = MolGroupStep(simple, clf, warmup_epochs=0)
    assert all(g is None or torch.isfinite(g).all() for g in step.gate_gradient(batch))


def test_identity_label_scaler_keeps_raw_labels():
    from molselect.core.prepare import LabelScaler

    y = np.array([[-3.0, 1.0], [5.0, np.nan]])
    scaler = LabelScaler.identity(2)
    np.testing.assert_array_equal(scaler.transform(y), y)
    np.testing.assert_array_equal(scaler.inverse_transform(y), y)


def test_task2vec_heads_and_fisher_see_the_same_features(small_smiles):
    """Task2vec fits the decoders on exactly the features its Fisher pass differentiates."""
    from molselect.core.fisher import fisher_embedding, train_heads
    from molselect.core.joint import joint_gin
    from molselect.core.training import JointStep, adam

    rng = np.random.default_rng(0)
    s = small_smiles
    data = [MoleculeDataset(s, rng.integers(0, 2, (20, 1)), name="t"),
            MoleculeDataset(s[4:], rng.normal(size=(16, 1)), name="a", task_types="regression"),
            MoleculeDataset(s[:12][::-1], rng.integers(0, 2, (12, 2)), name="b")]
    table, clf, _ = build_table(data)
    torch.manual_seed(0)
    model = joint_gin([d.n_tasks for d in data], hidden_dim=8, num_layers=2, dropout=0.5)
    step = JointStep(model, clf, adam(model.parameters(), 1e-2))
    for _ in range(3):     # running statistics that follow the target, as after the probe
        step(table.batch([np.arange(n) for n in table.sizes]))
    seen = {}

    def capture(d):
        def hook(module, args):
            if args[0].shape[0]:
                seen.setdefault(d, []).append(args[0].detach().clone())
        return hook

    for d, head in enumerate(model.heads.heads):
        head.register_forward_pre_hook(capture(d))
    # One epoch of one minibatch per head: every molecule once, in a known order.
    train_heads(model, table, clf, 1, 64, 1e-2, np.random.default_rng(1), "cpu")
    fitted = {d: torch.cat(v) for d, v in seen.items()}
    seen.clear()
    draws = np.random.default_rng(1)
    fit_order = [draws.permutation(n) for n in table.sizes]
    for d in range(table.n_datasets):
        # Small batches: the features must not depend on a molecule's batch-mates.
        fisher_embedding(model, table, d, clf[d], 5, None, np.random.default_rng(2 + d), "cpu")
        fisher_order = np.random.default_rng(2 + d).permutation(table.sizes[d])
        fisher = torch.cat(seen.pop(d))
        by_molecule_fit = torch.empty_like(fitted[d])
        by_molecule_fit[fit_order[d]] = fitted[d]
        by_molecule_fisher = torch.empty_like(fisher)
        by_molecule_fisher[fisher_order] = fisher
        torch.testing.assert_close(by_molecule_fisher, by_molecule_fit, atol=1e-5, rtol=1e-4)
    assert model.training      # the model's own mode is restored


@pytest.mark.parametrize("lookahead_lr", [None, 0.05])
def test_tag_lookahead_takes_the_optimizers_step(small_smiles, monkeypatch, lookahead_lr):
    """With Adam, TAG's virtual step is the update Adam would apply for that gradient."""
    from molselect.core import lookahead as lookahead_module
    from molselect.core.joint import joint_gin
    from molselect.core.lookahead import LookaheadStep
    from molselect.core.training import adam

    data = _datasets(small_smiles)
    table, clf, _ = build_table(data)
    torch.manual_seed(0)
    model = joint_gin([d.n_tasks for d in data], hidden_dim=8, num_layers=2, dropout=0.0)
    optimizer = adam(model.parameters(), 1e-3)
    step = LookaheadStep(model, clf, optimizer, lookahead_lr=lookahead_lr, every=100)
    batch = table.batch([np.arange(n) for n in table.sizes])
    for _ in range(3):           # Adam's moments and step count are no longer trivial
        step(batch)
    shared = model.encoder_parameters()
    before = {k: p.detach().clone() for k, p in shared.items()}
    state_before = copy.deepcopy(optimizer.state_dict())
    # What the optimiser would do with auxiliary 1's gradient (the lookahead's loss:
    # no dropout, running statistics untouched) on a copy of the model and optimiser.
    loss, _ = masked_loss(model(batch, update_running=False)[1], batch.y[1], clf[1])
    grads = torch.autograd.grad(loss, list(shared.values()))
    twin = copy.deepcopy(model)
    twin_optimizer = adam(twin.parameters(), 1e-3)
    twin_optimizer.load_state_dict(copy.deepcopy(state_before))
    twin_shared = twin.encoder_parameters()
    for (k, p), g in zip(twin_shared.items(), grads):
        p.grad = g.clone()
    twin_optimizer.step()
    if lookahead_lr is None:
        expected = {k: twin_shared[k].detach() - before[k] for k in shared}
    else:
        expected = {k: -lookahead_lr * g for k, g in zip(shared, grads)}
    seen = []
    real_call = lookahead_module.functional_call

    def spy(module, params, *args, **kwargs):
        seen.append({k: v.detach().clone() for k, v in params.items()})
        return real_call(module, params, *args, **kwargs)

    monkeypatch.setattr(lookahead_module, "functional_call", spy)
    z, measured = step.lookahead(batch)
    assert measured.tolist() == [1.0, 1.0] and torch.isfinite(z).all()
    change = {k: seen[0][k] - before[k] for k in shared}    # auxiliary 1 is looked at first
    for k in shared:
        # atol: the change is read back as (p + u) - p, exact to float32 round-off of p.
        torch.testing.assert_close(change[k], expected[k], rtol=1e-4, atol=1e-7)
    # Adam moves a coordinate by about lr whatever the gradient's scale; SGD by lr * grad.
    if lookahead_lr is None:
        assert max(float(v.abs().max()) for v in change.values()) > 5e-4
    # Neither the optimiser's state nor the parameters moved.
    for k, p in shared.items():
        assert torch.equal(p.detach(), before[k])
    after = optimizer.state_dict()
    for i, s in state_before["state"].items():
        for key, value in s.items():
            assert torch.equal(torch.as_tensor(after["state"][i][key]), torch.as_tensor(value))


def test_best_epoch_keeps_the_k_best_states_best_first_ties_to_the_earlier():
    from functools import partial

    from molselect.core import BestEpoch
    from molselect.metrics import is_better

    model = torch.nn.Linear(1, 1)
    keeper = BestEpoch(model, "m", partial(is_better, metric="roc_auc"), keep=3)
    for epoch, value in enumerate([0.5, float("nan"), 0.7, 0.6, 0.7, 0.55, 0.9]):
        with torch.no_grad():
            model.weight.fill_(epoch)
        keeper.on_epoch_end(epoch, {"m": value})
    assert [(e, v) for e, v, _ in keeper.kept] == [(6, 0.9), (2, 0.7), (4, 0.7)]
    assert keeper.best_epoch == 6 and float(keeper.best_state["weight"]) == 6.0


def test_early_stopping_counts_epochs_without_improvement():
    from molselect.core import EarlyStopping

    stopper = EarlyStopping("loss", 2, lambda new, best: best is None or new < best)
    stops = []
    for epoch, value in enumerate([3.0, 2.0, 2.5, 1.0, 1.5, 1.2, 0.5]):
        stopper.on_epoch_end(epoch, {"loss": value})
        stops.append(stopper.stop_training)
        if stopper.stop_training:
            break
    assert stops == [False] * 5 + [True]
    assert stopper.best_epoch == 3 and stopper.stopped_epoch == 5


def test_train_calls_callbacks_in_order_each_seeing_the_earlier_figures(small_smiles):
    """One hook mechanism: a callback reads what an earlier one added to the epoch's record."""
    from molselect.core import Callback, JointStep, adam, train
    from molselect.core.joint import joint_gin

    class Score(Callback):
        def on_epoch_end(self, epoch, logs):
            return {"score": 10.0 * epoch}

    class Reader(Callback):
        def __init__(self):
            self.seen, self.ended = [], None

        def on_epoch_end(self, epoch, logs):
            self.seen.append(logs["score"])
            self.stop_training = epoch == 1
            return {"twice": 2 * logs["score"]}

        def on_train_end(self, history):
            self.ended = len(history)

    data = _datasets(small_smiles)
    table, clf, _ = build_table(data)
    torch.manual_seed(0)
    model = joint_gin([d.n_tasks for d in data], hidden_dim=8, num_layers=2, dropout=0.0)
    reader = Reader()
    history = train(table, JointStep(model, clf, adam(model.parameters())), 5, 8,
                    np.random.default_rng(0), "cpu", callbacks=[Score(), reader])
    assert reader.seen == [0.0, 10.0] and reader.ended == 2
    assert [h["twice"] for h in history] == [0.0, 20.0]


@pytest.mark.parametrize("encoder", ["gin", "graphormer"])
def test_multi_dataset_network_decodes_each_dataset_with_its_own_head(small_smiles, encoder):
    """The estimators' and the baselines' one network: shared encoder, a head per dataset."""
    from molselect.core import MultiDatasetNetwork
    from molselect.core.graphormer import GraphormerEncoder
    from molselect.core.graphormer_input import GraphormerInputs

    data = _datasets(small_smiles)
    if encoder == "gin":
        table, _, _ = build_table(data)
        enc = GINEncoder(8, 2, 0.0)
    else:
        table, _, _ = build_table(data, encoder_inputs=GraphormerInputs(data, 64, 5))
        enc = GraphormerEncoder(8, 2, 2, 0.0, 0.0, 64, 5)
    torch.manual_seed(0)
    model = MultiDatasetNetwork(enc, [d.n_tasks for d in data]).eval()
    batch = table.batch([np.arange(3), np.arange(4), np.arange(5)])
    preds = model(batch)
    assert [tuple(p.shape) for p in preds] == [(3, 1), (4, 2), (5, 2)]
    embeddings = torch.split(model.embed(batch), [3, 4, 5])
    for head, block, pred in zip(model.heads.heads, embeddings, preds):
        torch.testing.assert_close(head(block), pred)
    assert set(model.encoder_parameters()) == {f"encoder.{k}" for k, _ in enc.named_parameters()}
