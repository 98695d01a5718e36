"""Graphormer spatial featurization and encoder."""

import sys

import numpy as np
import pytest
import torch
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import shortest_path

from molselect.core.graphormer import GraphormerEncoder
from molselect.featurize import featurize
from molselect.core.graphormer_input import NUM_SPATIAL, SPATIAL_PAD, collate_graphormer
from molselect.featurize._spatial import UNREACHABLE, spatial_features

# salts, a single atom, an atom-free molecule, rings and a long chain (paths > max_dist)
SMILES = ["CCO", "[Na+].[Cl-]", "C", "c1ccccc1O", "CC(=O)Oc1ccccc1C(=O)O",
          "CN1C=NC2=C1C(=O)N(C(=O)N2C)C", "CCCCCCCCCC", "[NH4+].CC(=O)[O-]", "",
          "c1ccc2ccccc2c1"]


def tiny(**kw):
    torch.manual_seed(0)
    return GraphormerEncoder(hidden_dim=16, num_layers=2, num_heads=2, **kw)


@pytest.fixture(scope="module")
def graphs():
    return featurize(SMILES, cache=False)


@pytest.fixture(scope="module")
def spatial(graphs):
    return spatial_features(graphs, cache=False)


def reference_distances(graphs, i):
    n = int(graphs.num_nodes[i])
    ei = graphs.edge_index[:, graphs.edge_ptr[i]:graphs.edge_ptr[i + 1]]
    adj = csr_matrix((np.ones(ei.shape[1]), (ei[0], ei[1])), shape=(n, n))
    return shortest_path(adj, unweighted=True)


def test_distances_match_reference(graphs, spatial):
    nx = pytest.importorskip("networkx")
    for i in range(len(graphs)):
        n = int(graphs.num_nodes[i])
        d = spatial.distances(i).astype(float)
        d[d == UNREACHABLE] = np.inf
        np.testing.assert_array_equal(d, reference_distances(graphs, i))
        G = nx.Graph()
        G.add_nodes_from(range(n))
        ei = graphs.edge_index[:, graphs.edge_ptr[i]:graphs.edge_ptr[i + 1]]
        G.add_edges_from(ei.T.tolist())
        for a, row in nx.all_pairs_shortest_path_length(G):
            for b, length in row.items():
                assert d[a, b] == length
    salt = spatial.distances(1)
    assert salt.tolist() == [[0, UNREACHABLE], [UNREACHABLE, 0]]
    assert spatial.distances(2).tolist() == [[0]]
    assert spatial.distances(8).shape == (0, 0)


def test_path_edges_form_shortest_paths(graphs, spatial):
    for i in range(len(graphs)):
        n = int(graphs.num_nodes[i])
        ei = graphs.edge_index[:, graphs.edge_ptr[i]:graphs.edge_ptr[i + 1]]
        paths = spatial.path_edges(graphs, i)
        dist = spatial.distances(i).astype(int)
        assert paths.shape == (n, n, spatial.max_dist)
        for a in range(n):
            for b in range(n):
                p = paths[a, b]
                hops = p[p >= 0]
                assert (p[len(hops):] == -1).all()  # padding only at the end
                d = dist[a, b]
                expect = 0 if d == UNREACHABLE else min(d, spatial.max_dist)
                assert len(hops) == expect
                cur = a
                for e in hops:  # real edges, each starting where the last ended
                    assert ei[0, e] == cur
                    cur = ei[1, e]
                if d != UNREACHABLE and d <= spatial.max_dist:
                    assert cur == b
                elif d != UNREACHABLE:  # still on a shortest path to b
                    assert dist[cur, b] == d - spatial.max_dist


def test_spatial_cache_returns_identical_arrays(graphs, tmp_path, monkeypatch):
    monkeypatch.setenv("MOLSELECT_CACHE", str(tmp_path))
    first = spatial_features(graphs)
    assert list((tmp_path / "spatial").glob("*.npz"))
    second = spatial_features(graphs, max_dist=3)  # max_dist does not change the cache
    for name in ("dist", "first_edge", "pair_ptr"):
        a, b = getattr(first, name), getattr(second, name)
        assert a.dtype == b.dtype
        np.testing.assert_array_equal(a, b)
    assert second.max_dist == 3
    assert first.dist.dtype == np.uint8 and first.first_edge.dtype == np.int16


def test_chunking_matches_per_molecule(graphs, monkeypatch):
    import molselect.featurize._spatial as mod
    whole = spatial_features(graphs, cache=False)
    monkeypatch.setattr(mod, "_CHUNK_ATOMS", 1)  # one molecule per scipy call
    single = spatial_features(graphs, cache=False)
    np.testing.assert_array_equal(whole.dist, single.dist)
    for i in range(len(graphs)):  # first edges may pick other, equally short paths
        np.testing.assert_array_equal(
            (whole.path_edges(graphs, i) >= 0).sum(-1), (single.path_edges(graphs, i) >= 0).sum(-1))


def test_collate_shapes_and_values(graphs, spatial):
    idx = [3, 1, 0, 8]
    b = collate_graphormer(graphs, spatial, idx)
    B, N, D = 4, int(graphs.num_nodes[idx].max()), spatial.max_dist
    assert b["x"].shape == (B, N, 9) and b["x"].dtype == torch.long
    assert b["node_mask"].dtype == torch.bool
    assert b["node_mask"].sum(1).tolist() == graphs.num_nodes[idx].tolist()
    assert b["spatial_pos"].shape == (B, N, N)
    assert b["edge_path"].shape == (B, N, N, D) and b["path_len"].shape == (B, N, N)
    E = int(graphs.num_edges[idx].sum())
    assert b["edge_attr"].shape == (E, 3)
    assert int(b["spatial_pos"].max()) < NUM_SPATIAL
    for k, i in enumerate(idx):
        n = int(graphs.num_nodes[i])
        np.testing.assert_array_equal(b["x"][k, :n].numpy(),
                                      graphs.x[graphs.node_ptr[i]:graphs.node_ptr[i + 1]])
        np.testing.assert_array_equal(b["spatial_pos"][k, :n, :n].numpy(),
                                      spatial.distances(i).astype(int) + 1)
        assert (b["spatial_pos"][k, n:] == SPATIAL_PAD).all()
        assert (b["spatial_pos"][k, :, n:] == SPATIAL_PAD).all()
        ei = graphs.edge_index[:, graphs.edge_ptr[i]:graphs.edge_ptr[i + 1]]
        deg = np.bincount(ei[0], minlength=n) if n else np.zeros(0, int)
        np.testing.assert_array_equal(b["degree"][k, :n].numpy(), deg)
        assert (b["degree"][k, n:] == 0).all()
    # edge_path rows point at the right bonds of the batch edge table
    e_off = np.concatenate([[0], np.cumsum(graphs.num_edges[idx])])
    for k, i in enumerate(idx):
        n = int(graphs.num_nodes[i])
        local = spatial.path_edges(graphs, i)
        rows = b["edge_path"][k, :n, :n].numpy()
        np.testing.assert_array_equal(rows, np.where(local >= 0, local + e_off[k], E))
        np.testing.assert_array_equal(b["path_len"][k, :n, :n].numpy(), (local >= 0).sum(-1))
    padded_row = ~b["node_mask"][:, :, None].expand(B, N, N)
    assert (b["edge_path"][padded_row] == E).all() and (b["path_len"][padded_row] == 0).all()
    ea = graphs.edge_attr[np.concatenate([np.arange(graphs.edge_ptr[i], graphs.edge_ptr[i + 1])
                                          for i in idx])]
    np.testing.assert_array_equal(b["edge_attr"].numpy(), ea)


def test_collate_oversize(graphs, spatial):
    big = SMILES.index("CN1C=NC2=C1C(=O)N(C(=O)N2C)C")
    n = int(graphs.num_nodes[big])
    with pytest.raises(ValueError, match=f"molecule {big} has {n} atoms"):
        collate_graphormer(graphs, spatial, [0, big], max_nodes=5, truncate=False)
    b = collate_graphormer(graphs, spatial, [0, big], max_nodes=5)
    assert b["x"].shape[1] == 5 and b["node_mask"][1].all()
    # distances among the kept atoms still come from the whole molecule
    np.testing.assert_array_equal(b["spatial_pos"][1].numpy(),
                                  spatial.distances(big)[:5, :5].astype(int) + 1)
    out = tiny(max_nodes=5).eval()(b)
    assert out.shape == (2, 16) and torch.isfinite(out).all()


def test_encoder_output_shape(graphs, spatial):
    model = tiny().eval()
    out = model(collate_graphormer(graphs, spatial, np.arange(len(graphs))))
    assert out.shape == (len(graphs), 16)
    assert torch.isfinite(out).all()
    graph, nodes = model(collate_graphormer(graphs, spatial, [0, 3]), return_nodes=True)
    assert graph.shape == (2, 16) and nodes.shape == (2, int(graphs.num_nodes[3]), 16)


def test_padding_does_not_leak(graphs, spatial):
    model = tiny().eval()
    big = SMILES.index("CC(=O)Oc1ccccc1C(=O)O")
    with torch.no_grad():
        for i in range(len(graphs)):
            alone = model(collate_graphormer(graphs, spatial, [i]))
            padded = model(collate_graphormer(graphs, spatial, [big, i, big]))
            torch.testing.assert_close(padded[1], alone[0], atol=1e-5, rtol=1e-5)


def test_structure_changes_output(graphs, spatial):
    """Same atoms, different bonds (o- vs p-xylene-like) must embed differently."""
    g = featurize(["Cc1ccccc1C", "Cc1ccc(C)cc1"], cache=False)
    out = tiny().eval()(collate_graphormer(g, spatial_features(g, cache=False), [0, 1]))
    assert not torch.allclose(out[0], out[1])


def test_gradient_reaches_every_parameter(graphs, spatial):
    model = tiny().train()
    torch.manual_seed(1)
    out = model(collate_graphormer(graphs, spatial, np.arange(len(graphs))))
    # a random projection: the sum of a layer-normed output is constant
    (out * torch.randn_like(out)).sum().backward()
    for name, p in model.named_parameters():
        assert p.grad is not None and torch.isfinite(p.grad).all(), name
        assert p.grad.abs().max() > 0, name


def test_dropout_only_in_training(graphs, spatial):
    model = tiny(dropout=0.5, attention_dropout=0.5)
    batch = collate_graphormer(graphs, spatial, [4, 5])
    model.eval()
    torch.testing.assert_close(model(batch), model(batch))
    model.train()
    assert not torch.allclose(model(batch), model(batch))


def test_no_scikit_learn():
    """The encoder and its featurization are pure torch / numpy / scipy.

    The top-level ``molselect`` package is the scikit-learn-facing API, so its
    ``__init__`` is bypassed (the package is registered bare) before importing.
    """
    import subprocess
    code = (
        "import sys, types, importlib.util\n"
        "spec = importlib.util.find_spec('molselect')\n"
        "pkg = types.ModuleType('molselect')\n"
        "pkg.__path__ = list(spec.submodule_search_locations)\n"
        "sys.modules['molselect'] = pkg\n"
        "import molselect.core.graphormer, molselect.featurize._spatial\n"
        "sys.exit(int(any(m.split('.')[0] == 'sklearn' for m in sys.modules)))\n")
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0


def test_simple_feature_dims_ignore_columns_after_the_second(graphs, spatial):
    """The reference code's --feature simple: atoms (number, chirality), bonds (type, stereo)."""
    from molselect.core.gin import feature_dims
    from molselect.featurize import ATOM_FEATURE_DIMS, BOND_FEATURE_DIMS

    atom_dims, bond_dims = feature_dims("simple")
    batch = collate_graphormer(graphs, spatial, np.arange(len(graphs)))
    other = dict(batch)
    g = torch.Generator().manual_seed(0)
    other["x"] = batch["x"].clone()
    for j, size in enumerate(ATOM_FEATURE_DIMS[2:], start=2):
        other["x"][..., j] = torch.randint(size, other["x"].shape[:-1], generator=g)
    other["edge_attr"] = batch["edge_attr"].clone()
    for j, size in enumerate(BOND_FEATURE_DIMS[2:], start=2):
        other["edge_attr"][:, j] = torch.randint(size, other["edge_attr"].shape[:1], generator=g)
    simple = tiny(atom_feature_dims=atom_dims, bond_feature_dims=bond_dims).eval()
    assert simple.atom_encoder.table.weight.shape[0] == sum(atom_dims)
    with torch.no_grad():
        torch.testing.assert_close(simple(batch), simple(other))
        full = tiny().eval()
        assert not torch.allclose(full(batch), full(other))
