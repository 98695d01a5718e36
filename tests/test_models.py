"""The downstream estimators: fitting unions, outputs, GradNorm, pre-training, pickling, errors,
scikit-learn model selection, unusual chemistry (metals, isotopes, no bonds, 300 atoms)."""

import pickle
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.exceptions import NotFittedError

from molselect.datasets import DatasetGroup, MoleculeDataset, load_dataset
from molselect.metrics import evaluate
from molselect.models import GINClassifier, GINRegressor, GraphormerClassifier, GraphormerRegressor
from molselect.core.gradnorm import GradNormStep

from conftest import TEN_SMILES, TINY

TINY_FIT = dict(TINY, epochs=1, random_state=0)
TINY_GRAPHORMER = dict(TINY_FIT, num_heads=2)


def tiny(cls, **kw):
    params = TINY_GRAPHORMER if cls.__name__.startswith("Graphormer") else TINY_FIT
    return cls(**{**params, **kw})


@pytest.fixture(scope="module")
def data():
    bace, esol, clintox = (load_dataset(n) for n in ("bace", "esol", "clintox"))
    # evenly spaced rows: scaffold splits are ordered, so a prefix can hold one class only
    take = lambda d, n: d.subset(np.linspace(0, len(d) - 1, n).astype(int))  # noqa: E731
    return SimpleNamespace(
        bace=take(bace.train, 60), bace_valid=take(bace.valid, 40), bace_test=take(bace.test, 40),
        esol=take(esol.train, 60), esol_valid=take(esol.valid, 30), esol_test=take(esol.test, 30),
        clintox=take(clintox.train, 40),
    )


def union_for(data, target):
    aux = {"clintox": data.clintox, "esol": data.esol} if target is data.bace else {
        "clintox": data.clintox, "bace": data.bace}
    return DatasetGroup([(target.name, target), *aux.items()])


CASES = [
    (GINClassifier, "bace"), (GraphormerClassifier, "bace"),
    (GINRegressor, "esol"), (GraphormerRegressor, "esol"),
]


@pytest.mark.parametrize("cls,target_name", CASES, ids=[c.__name__ for c, _ in CASES])
@pytest.mark.repeats_exactly
def test_fit_union_predict_score_pickle(cls, target_name, data):
    target = getattr(data, target_name)
    valid, test = getattr(data, f"{target_name}_valid"), getattr(data, f"{target_name}_test")
    est = tiny(cls, epochs=2).fit(union_for(data, target), None, eval_set=valid)
    assert est.members_[0] == target_name and len(est.members_) == 3
    assert est.n_tasks_ == 1 and est.tasks_ == target.tasks and est.metric_ == target.metric
    assert list(est.history_["epoch"]) == [1, 2]
    assert {"loss", "target_loss", "valid_metric"} <= set(est.history_.columns)
    best = est.history_["valid_metric"]
    best = best.idxmax() if target.metric == "roc_auc" else best.idxmin()
    assert est.best_epoch_ == est.history_["epoch"][best]
    assert est.best_score_ == pytest.approx(est.history_["valid_metric"][best])

    pred = est.predict(test)
    assert pred.shape == (len(test),)
    score = est.score(test)
    if cls._kind == "classification":
        proba = est.predict_proba(test)
        assert proba.shape == (len(test), 2)
        np.testing.assert_allclose(proba.sum(1), 1.0)
        assert set(np.unique(pred)) <= {0, 1}
        np.testing.assert_array_equal(pred, proba[:, 1] >= 0.5)
        assert score == pytest.approx(evaluate(test.y, proba[:, 1], "roc_auc"))
    else:
        assert score == pytest.approx(-evaluate(test.y, pred, "rmse"))
    # the same validation score again, computed by score()
    assert abs(est.score(valid)) == pytest.approx(est.best_score_, rel=1e-5)

    clone = pickle.loads(pickle.dumps(est))
    np.testing.assert_allclose(clone.predict(test), pred)
    assert all(t.device.type == "cpu" for t in clone.model_.state_dict().values())


def test_single_dataset_smiles_and_duck_typed_input(data):
    duck = SimpleNamespace(ids=data.bace.ids, y=data.bace.y.ravel(), w=np.ones(len(data.bace)))
    est = tiny(GINClassifier).fit(duck)
    assert est.members_ == ["target"] and est.best_epoch_ == 1 and est.best_score_ is None
    assert "valid_metric" not in est.history_
    smiles = list(data.bace_test.ids[:5])
    np.testing.assert_allclose(est.predict_proba(smiles), est.predict_proba(data.bace_test)[:5])
    assert est.predict([]).shape == (0,)


def test_multitask_target_with_missing_labels():
    tox21 = load_dataset("tox21")
    train, test = tox21.train.subset(np.arange(80)), tox21.test.subset(np.arange(60))
    assert np.isnan(train.y).any()
    est = tiny(GINClassifier).fit(train, eval_set=tox21.valid.subset(np.arange(60)))
    assert est.n_tasks_ == 12
    assert est.predict_proba(test).shape == (60, 12)
    assert est.predict(test).shape == (60, 12)
    assert np.isfinite(est.score(test))


@pytest.mark.repeats_exactly
def test_seeded_fits_repeat(data):
    a = tiny(GINRegressor).fit(data.esol).predict(data.esol_test)
    b = tiny(GINRegressor).fit(data.esol).predict(data.esol_test)
    np.testing.assert_allclose(a, b)


@pytest.mark.parametrize("cls", [GINClassifier, GraphormerClassifier])
def test_gradnorm_weights_move_stay_positive_and_sum_to_members(cls, data):
    est = tiny(cls, loss_weighting="gradnorm", epochs=2).fit(union_for(data, data.bace))
    w = est.loss_weights_
    assert list(w.index) == est.members_
    assert (w > 0).all() and w.sum() == pytest.approx(3.0, rel=1e-4)
    assert not np.allclose(w, 1.0)
    cols = [f"weight[{m}]" for m in est.members_]
    np.testing.assert_allclose(est.history_[cols].sum(axis=1), 3.0, rtol=1e-4)
    uniform = tiny(cls).fit(union_for(data, data.bace))
    assert (uniform.loss_weights_ == 1).all()


def test_gradnorm_step_on_its_own():
    torch.manual_seed(0)
    layer = torch.nn.Linear(4, 4)
    heads = torch.nn.ModuleList([torch.nn.Linear(4, 1), torch.nn.Linear(4, 1)])

    class Model(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.layer, self.heads = layer, heads

        def forward(self, batch):
            h = self.layer(batch.x)
            return [self.heads[0](h[:8]), 10 * self.heads[1](h[8:])]

    model = Model()
    step = GradNormStep(model, [torch.tensor([False])] * 2,
                        torch.optim.SGD(model.parameters(), lr=0.01), layer.weight)
    batch = SimpleNamespace(x=torch.randn(16, 4), y=[torch.randn(8, 1), torch.randn(8, 1)])
    for _ in range(20):
        logs = step(batch)
    w = logs["weights"]
    assert (w > 0).all() and float(w.sum()) == pytest.approx(2.0, rel=1e-5)
    assert w[1] < w[0]  # the member with 10x larger gradients is weighted down


def test_pretrain_save_and_finetune(tmp_path, data):
    path = tmp_path / "enc" / "graphormer.pt"
    pre = GraphormerRegressor.pretrain({"esol": data.esol, "clintox": data.clintox}, path,
                                       **TINY_GRAPHORMER)
    assert path.exists() and list(pre.members_) == ["esol", "clintox"]
    est = tiny(GraphormerClassifier, pretrained=str(path))
    network = est._build_network([1])
    est._load_encoder(network.encoder, path)
    saved = pre.model_.encoder.state_dict()
    for k, v in network.encoder.state_dict().items():
        torch.testing.assert_close(v, saved[k].cpu())
    assert np.isfinite(est.fit(data.bace).score(data.bace_test))

    with pytest.raises(ValueError, match=r"hidden_dim=16 \(here 32\)"):
        tiny(GraphormerClassifier, hidden_dim=32, pretrained=path).fit(data.bace)
    with pytest.raises(ValueError, match="graphormer encoder"):
        tiny(GINClassifier, pretrained=path).fit(data.bace)
    with pytest.raises(FileNotFoundError, match="does not exist"):
        tiny(GINClassifier, pretrained=tmp_path / "nope.pt").fit(data.bace)
    GINClassifier.pretrain([data.bace, data.esol], tmp_path / "gin.pt", **TINY_FIT)
    tiny(GINRegressor, pretrained=tmp_path / "gin.pt").fit(data.esol)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_fit_unpickles_on_cpu(data, monkeypatch):
    est = tiny(GINClassifier, device="cuda").fit(data.bace)
    blob = pickle.dumps(est)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    clone = pickle.loads(blob)
    assert next(clone.model_.parameters()).device.type == "cpu"
    np.testing.assert_allclose(clone.predict_proba(data.bace_test),
                               est.predict_proba(data.bace_test), atol=1e-4)


def test_save_model_round_trips_and_load_model_refuses_other_files(tmp_path, data):
    import joblib

    from molselect.models import load_model, save_model

    est = tiny(GINClassifier).fit(data.bace)
    path = save_model(est, tmp_path / "m.joblib", info={"target": "bace"})
    clone, info = load_model(path)
    assert info["target"] == "bace" and info["molselect"]
    np.testing.assert_allclose(clone.predict_proba(data.bace_test),
                               est.predict_proba(data.bace_test), atol=1e-6)
    with pytest.raises(NotFittedError):
        save_model(tiny(GINClassifier), tmp_path / "unfitted.joblib")
    (tmp_path / "table.csv").write_text("smiles,y\nCCO,1\n")
    joblib.dump({"format": "something else"}, tmp_path / "dict.joblib")
    joblib.dump({"format": "molselect-model-v1", "estimator": "no"}, tmp_path / "fake.joblib")
    est.save_encoder(tmp_path / "encoder.pt")
    for name in ("table.csv", "dict.joblib", "fake.joblib", "encoder.pt"):
        with pytest.raises(ValueError, match="is not a model saved by molselect"):
            load_model(tmp_path / name)
    with pytest.raises(FileNotFoundError, match="no such model file"):
        load_model(tmp_path / "missing.joblib")


def test_clear_errors(data):
    est = tiny(GINClassifier)
    with pytest.raises(NotFittedError):
        est.predict(data.bace_test)
    with pytest.raises(ValueError, match="empty"):
        est.fit(data.bace.subset(np.arange(0)))
    nan_only = data.bace.subset(np.arange(5))
    nan_only.y[:] = np.nan
    with pytest.raises(ValueError, match="no labels"):
        est.fit(nan_only)
    with pytest.raises(TypeError, match="first member"):
        est.fit({"bace": "bace.csv", "esol": data.esol})
    with pytest.raises(TypeError, match="labels must be given as y"):
        est.fit(list(data.bace.ids))
    with pytest.raises(TypeError, match="str"):
        est.fit("bace")
    with pytest.raises(TypeError, match="ndarray"):
        est.fit(np.zeros((5, 3)))
    with pytest.raises(TypeError, match="DataFrame"):
        est.fit(pd.DataFrame({"smiles": ["CCO"], "y": [1]}))
    with pytest.raises(ValueError, match="do not match the target"):
        est.fit(DatasetGroup({"esol": data.esol, "bace": data.bace}), eval_set=data.bace_valid)
    with pytest.raises(ValueError, match="use GINRegressor"):
        est.fit(data.esol)
    with pytest.raises(ValueError, match="use GraphormerClassifier"):
        tiny(GraphormerRegressor).fit(data.bace)
    with pytest.raises(ValueError, match="loss_weighting"):
        tiny(GINClassifier, loss_weighting="mean").fit(data.bace)
    with pytest.raises(ValueError, match="num_heads=3"):
        tiny(GraphormerClassifier, num_heads=3).fit(data.bace)
    est.fit(data.bace)
    with pytest.raises(TypeError, match="not a union"):
        est.predict(DatasetGroup({"bace": data.bace_test}))
    with pytest.raises(TypeError, match="labelled dataset"):
        est.score(list(data.bace_test.ids))
    with pytest.raises(TypeError, match="SMILES"):
        est.predict(np.zeros(3))


# -- feature_set: the reference code's --feature simple ---------------------------

@pytest.mark.parametrize("cls", [GINRegressor, GraphormerRegressor])
@pytest.mark.repeats_exactly
def test_simple_feature_set_embeds_two_atom_and_two_bond_features(cls, data, tmp_path):
    est = tiny(cls, feature_set="simple").fit(data.esol)
    encoder = est.model_.encoder
    atom = (encoder.atom_embedding.weight if cls is GINRegressor
            else encoder.atom_encoder.table.weight)
    bond = (encoder.layers[0].bond_embedding.weight if cls is GINRegressor
            else encoder.bond_encoder.table.weight)
    assert atom.shape[0] == 119 + 5 and bond.shape[0] == 5 + 6  # atomic number + chirality
    assert tiny(cls)._build_encoder().state_dict().keys() == encoder.state_dict().keys()
    assert np.isfinite(est.predict(data.esol_test)).all()
    clone = pickle.loads(pickle.dumps(est))
    np.testing.assert_allclose(clone.predict(data.esol_test), est.predict(data.esol_test))

    # A saved encoder records its feature set, and fine-tuning checks it.
    path = est.save_encoder(tmp_path / "simple.pt")
    assert torch.load(path, weights_only=True)["config"]["feature_set"] == "simple"
    tiny(cls, feature_set="simple", pretrained=path).fit(data.esol)
    with pytest.raises(ValueError, match=r"feature_set='simple' \(here 'full'\)"):
        tiny(cls, pretrained=path).fit(data.esol)

    # A file saved before feature_set existed is refused: save it again.
    full = tiny(cls).fit(data.esol).save_encoder(tmp_path / "full.pt")
    old = torch.load(full, weights_only=True)
    del old["config"]["feature_set"]
    torch.save(old, tmp_path / "old.pt")
    for feature_set in ("full", "simple"):
        with pytest.raises(ValueError, match="saved by an earlier molselect, which did not "
                                             "record feature_set; save it again"):
            tiny(cls, feature_set=feature_set, pretrained=tmp_path / "old.pt").fit(data.esol)


def test_feature_set_default_and_bad_value(data):
    assert GINClassifier().feature_set == "full" and GraphormerClassifier().feature_set == "full"
    for cls in (GINClassifier, GraphormerClassifier):
        with pytest.raises(ValueError, match="feature_set must be one of"):
            tiny(cls, feature_set="minimal").fit(data.bace)


# -- the training protocol: early stopping, checkpoint ensembles, callbacks -----------------
def test_early_stopping_stops_after_patience_epochs_without_improvement(data):
    est = tiny(GINRegressor, epochs=50, early_stopping=2, monitor="loss").fit(
        data.esol, eval_set=data.esol_valid)
    losses = est.history_["valid_loss"].to_numpy()
    assert est.n_epochs_ == len(losses) < 50
    best = int(np.argmin(losses))
    assert est.best_epoch_ == best + 1
    # It stopped exactly `patience` epochs after the last improvement.
    assert len(losses) - 1 - best == 2


def test_a_fit_still_improving_at_its_epoch_limit_warns(data):
    """scikit-learn's ConvergenceWarning, as an MLP gives at max_iter: raise epochs."""
    import warnings

    from sklearn.exceptions import ConvergenceWarning

    # Scored on its own training data, the loss falls every epoch: the last is the best.
    with pytest.warns(ConvergenceWarning, match=r"best validation epoch was the last of the 3 "
                                                r"\(epochs=3\).*Raise epochs"):
        est = tiny(GINRegressor, epochs=3, monitor="loss").fit(data.esol, eval_set=data.esol)
    assert est.best_epoch_ == est.n_epochs_ == 3
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        # Stopped early, after its best epoch: converged as far as validation can tell.
        tiny(GINRegressor, epochs=50, early_stopping=2, monitor="loss").fit(
            data.esol, eval_set=data.esol_valid)
        tiny(GINRegressor, epochs=3).fit(data.esol)    # nothing to tell by


def test_checkpoint_ensemble_predicts_the_mean_of_the_best_epochs(data):
    est = tiny(GINClassifier, epochs=4, n_checkpoints=3).fit(data.bace, eval_set=data.bace_valid)
    assert len(est.checkpoints_) == 3
    metric = est.history_["valid_metric"].to_numpy()
    assert est.best_score_ == metric.max()
    single = []
    for state in est.checkpoints_:
        one = tiny(GINClassifier, epochs=4).fit(data.bace, eval_set=data.bace_valid)
        one.model_.load_state_dict(state)
        one.checkpoints_ = []
        single.append(one.predict_proba(data.bace_test)[:, 1])
    np.testing.assert_allclose(est.predict_proba(data.bace_test)[:, 1], np.mean(single, axis=0),
                               rtol=1e-6)
    # Ensembling leaves the model holding the best epoch's weights.
    best = est.checkpoints_[0]
    assert all(torch.equal(v.cpu(), best[k]) for k, v in est.model_.state_dict().items())


@pytest.mark.repeats_exactly
def test_protocol_defaults_compute_what_they_computed_before(data):
    """New parameters at their defaults change nothing (the evaluation cache relies on it)."""
    a = tiny(GINClassifier, epochs=3).fit(data.bace, eval_set=data.bace_valid)
    b = tiny(GINClassifier, epochs=3, early_stopping=None, monitor="metric", n_checkpoints=1,
             callbacks=None).fit(data.bace, eval_set=data.bace_valid)
    np.testing.assert_array_equal(a.predict_proba(data.bace_test), b.predict_proba(data.bace_test))
    assert a.best_epoch_ == b.best_epoch_ and a.n_epochs_ == 3


def test_callbacks_see_the_validation_figures_and_can_stop(data):
    from molselect.core import Callback

    class StopAtTwo(Callback):
        def set_estimator(self, estimator):
            self.estimator, self.seen = estimator, []

        def on_epoch_end(self, epoch, logs):
            self.seen.append((logs["valid_metric"], logs["valid_loss"]))
            self.stop_training = epoch == 1

    callback = StopAtTwo()
    est = tiny(GINRegressor, epochs=10, callbacks=[callback]).fit(data.esol,
                                                                  eval_set=data.esol_valid)
    assert callback.estimator is est and est.n_epochs_ == 2 and len(callback.seen) == 2
    assert np.allclose(est.history_["valid_loss"], [s[1] for s in callback.seen])
    with pytest.raises(TypeError, match="callbacks must be"):
        tiny(GINRegressor, callbacks=[print]).fit(data.esol, eval_set=data.esol_valid)


def test_a_user_logger_callback_sees_every_epoch_and_adds_to_the_history(data):
    """The user guide's logger: called after the estimator's own callbacks, without eval_set too."""
    from molselect.core import Callback, MultiDatasetNetwork

    class Logger(Callback):
        def __init__(self):
            self.lines, self.epochs_at_end = [], None

        def on_epoch_end(self, epoch, logs):
            self.lines.append(f"epoch {epoch + 1}: loss {logs['loss']:.3f}")
            return {"logged": float(len(self.lines))}

        def on_train_end(self, history):
            self.epochs_at_end = len(history)

    logger = Logger()
    est = tiny(GINClassifier, epochs=3, callbacks=[logger]).fit(union_for(data, data.bace))
    assert len(logger.lines) == 3 and logger.epochs_at_end == 3
    assert list(est.history_["logged"]) == [1.0, 2.0, 3.0]
    assert "valid_metric" not in est.history_
    assert isinstance(est.model_, MultiDatasetNetwork) and len(est.model_.heads.heads) == 3
    # With eval_set, the validation figures are in the record before the user's callback runs.
    again = tiny(GINClassifier, epochs=3, callbacks=[Logger()]).fit(data.bace,
                                                                    eval_set=data.bace_valid)
    assert list(again.history_.columns) == ["epoch", "loss", "target_loss", "valid_metric",
                                            "valid_loss", "logged"]


def test_validation_loss_is_cross_entropy_and_standardised_mse():
    from molselect.models._protocol import validation_loss

    y = np.array([[1.0, 2.0], [0.0, np.nan], [np.nan, 4.0]])
    out = np.array([[0.8, 1.0], [0.4, 0.0], [0.5, 6.0]])
    expected_clf = -(np.log(0.8) + np.log(0.6)) / 2
    expected_reg = ((1.0 / 2) ** 2 + (2.0 / 2) ** 2) / 2
    got = validation_loss(y, out, ["classification", "regression"], np.array([1.0, 2.0]))
    assert got == pytest.approx((expected_clf + expected_reg) / 2)


# -- scikit-learn habits: SMILES and labels, model selection, labels beside data ----

@pytest.mark.probe("SK-03")
@pytest.mark.parametrize("cls,target_name", CASES, ids=[c.__name__ for c, _ in CASES])
@pytest.mark.repeats_exactly
def test_fit_and_score_smiles_and_labels_as_the_dataset_would(cls, target_name, data):
    target, test = getattr(data, target_name), getattr(data, f"{target_name}_test")
    on_data = tiny(cls).fit(target)
    for y in (target.y.ravel(), target.y, list(target.y.ravel())):   # 1-D, 2-D, a list
        est = tiny(cls).fit(np.asarray(target.ids), y)
        assert est.members_ == ["target"] and est.tasks_ == ["task0"] and est.n_tasks_ == 1
        assert est.task_types_ == [cls._kind] and est.metric_ == target.metric
        np.testing.assert_array_equal(est.predict(test), on_data.predict(test))
    labels = test.y.ravel()
    assert est.score(list(test.ids), labels) == on_data.score(test)
    assert est.score(pd.Series(test.ids), labels[:, None]) == on_data.score(test)
    if cls._kind == "classification":
        np.testing.assert_array_equal(est.predict_proba(list(test.ids)),
                                      on_data.predict_proba(test))


@pytest.mark.probe("SK-02")
def test_model_selection_on_smiles_and_labels(data):
    from sklearn.base import clone
    from sklearn.model_selection import GridSearchCV, cross_val_score

    X, y = list(data.bace.ids), data.bace.y.ravel()
    scores = cross_val_score(tiny(GINClassifier), X, y, cv=2)
    assert scores.shape == (2,) and np.isfinite(scores).all()
    # A scorer of scikit-learn's (predict_proba and classes_) gives score()'s ROC-AUC.
    np.testing.assert_allclose(
        cross_val_score(tiny(GINClassifier), X, y, cv=2, scoring="roc_auc"), scores)
    assert np.isfinite(cross_val_score(tiny(GINRegressor), list(data.esol.ids),
                                       data.esol.y.ravel(), cv=3)).all()
    search = GridSearchCV(tiny(GraphormerClassifier), {"epochs": [1, 2]}, cv=2)
    search.fit(X, y)
    assert search.best_params_["epochs"] in (1, 2)
    assert np.isfinite(search.cv_results_["mean_test_score"]).all()
    assert search.best_estimator_.n_epochs_ == search.best_params_["epochs"]
    assert np.isfinite(search.score(list(data.bace_test.ids), data.bace_test.y.ravel()))
    assert clone(search.best_estimator_).get_params() == search.best_estimator_.get_params()


def test_eval_set_as_smiles_and_labels(data):
    X, y = list(data.bace.ids), data.bace.y.ravel()
    valid = data.bace_valid
    expected = tiny(GINClassifier, epochs=2).fit(X, y, eval_set=valid)
    for eval_set in [(list(valid.ids), valid.y.ravel()), [(np.asarray(valid.ids), valid.y)]]:
        est = tiny(GINClassifier, epochs=2).fit(X, y, eval_set=eval_set)
        assert est.best_score_ == expected.best_score_ is not None
    with pytest.raises(ValueError, match=r"eval_set's tasks .* do not match"):
        tiny(GINClassifier).fit(X, y, eval_set=(list(valid.ids), np.c_[valid.y, valid.y]))


def test_smiles_input_errors_name_the_row(data):
    X, y = list(data.bace.ids[:20]), data.bace.y[:20].ravel()
    bad = X[:3] + ["C1CC"] + X[4:]
    with pytest.raises(ValueError, match=r"fit: X: 1 SMILES could not be parsed.*rows.*3 "
                                         r"\('C1CC'\)"):
        tiny(GINClassifier).fit(bad, y)
    with pytest.raises(TypeError, match="labels must be given as y"):
        tiny(GINRegressor).fit(np.asarray(X))
    with pytest.raises(ValueError, match=r"y has shape \(19,\) but there are 20 SMILES"):
        tiny(GINClassifier).fit(X, y[:19])
    with pytest.raises(ValueError, match="fit: X: task .task0. is classification but has labels other than 0 and 1"):
        tiny(GINClassifier).fit(X, y + 1)
    est = tiny(GINClassifier).fit(data.bace)
    with pytest.raises(ValueError, match=r"score: X: 1 SMILES could not be parsed.*3 \('C1CC'\)"):
        est.score(bad, y)
    with pytest.raises(TypeError, match="labelled dataset, or SMILES strings and their labels"):
        est.score(X)


@pytest.mark.probe("SK-08")
def test_score_refuses_data_of_other_tasks(data):
    est = tiny(GINClassifier).fit(data.bace)
    bbbp = load_dataset("bbbp").test.subset(np.arange(40))   # one classification task too
    with pytest.raises(ValueError, match=r"score: X's tasks \['p_np'\].*do not match the "
                                         r"target 'bace'.*held-out data"):
        est.score(bbbp)
    with pytest.raises(ValueError, match="score: X's task types"):
        est.score(MoleculeDataset(data.esol_test.ids[:10], data.esol_test.y[:10],
                                  tasks=["Class"], name="esol"))
    with pytest.raises(ValueError, match=r"score: X's tasks .*\(2\)"):
        est.score(list(data.bace_test.ids), np.c_[data.bace_test.y, data.bace_test.y])


@pytest.mark.probe("SK-07")
@pytest.mark.repeats_exactly
def test_labels_beside_a_dataset_are_checked_not_ignored(data):
    target, test = data.bace, data.bace_test
    other = 1.0 - target.y.ravel()
    for X in (target, DatasetGroup({"bace": target, "esol": data.esol})):
        with pytest.raises(ValueError, match="carries its own labels"):
            tiny(GINClassifier).fit(X, other)
    with pytest.raises(ValueError, match="carries its own labels"):
        tiny(GINClassifier).fit(target, target.y.ravel()[:-1])
    # Its own labels (as a Pipeline passes them on after a selector) are what it trains on.
    alone = tiny(GINClassifier).fit(target)
    same = tiny(GINClassifier).fit(target, list(target.y.ravel()))
    np.testing.assert_array_equal(same.predict_proba(test), alone.predict_proba(test))
    assert alone.score(test, test.y) == alone.score(test)
    with pytest.raises(ValueError, match="carries its own labels"):
        alone.score(test, 1.0 - test.y)


# -- input checks: eval_set, labels, SMILES ------------------------------------------------
def test_unlabelled_eval_set_message_names_the_real_cause(bbbp_tiny):
    """Probe 137: 'tasks ['p_np'] (1) do not match ... ['p_np'] (1)' contradicted itself."""
    target, valid, _, _ = bbbp_tiny
    empty = MoleculeDataset(valid.ids, np.full(len(valid), np.nan), tasks=["p_np"])
    with pytest.raises(ValueError, match="task types.*no labels at all"):
        GINClassifier(epochs=1, **TINY).fit(target, eval_set=empty)


def test_gin_classifier_refuses_a_single_class_target():
    """Probe 30: a single-class target trained silently in GINClassifier."""
    data = MoleculeDataset(TEN_SMILES, np.zeros(10), task_types="classification", name="t")
    with pytest.raises(ValueError, match="only one class"):
        GINClassifier(epochs=1, **TINY).fit(data)


def test_eval_set_that_cannot_score_is_warned_about(bbbp_tiny):
    """Probe 136: an all-NaN eval_set was ignored silently (best epoch = the last)."""
    target, valid, _, _ = bbbp_tiny
    blank = MoleculeDataset(valid.ids, np.full(len(valid), np.nan),
                            task_types="classification", tasks=["p_np"])
    with pytest.warns(UserWarning, match="could not choose the best epoch"):
        GINClassifier(epochs=1, random_state=0, **TINY).fit(target, eval_set=blank)


def test_scoring_a_classifier_on_regression_labels_says_so(bbbp_tiny):
    """Probe 131: sklearn's 'continuous format is not supported' from its internals."""
    target, _, _, esol_valid = bbbp_tiny
    est = GINClassifier(epochs=1, random_state=0, **TINY).fit(target)
    renamed = MoleculeDataset(esol_valid.ids, esol_valid.y, tasks=target.tasks,
                              task_types="regression")
    with pytest.raises(ValueError, match=r"score: X.s task types \[.regression.\] do not match"):
        est.score(renamed)


def test_predicting_an_empty_smiles_names_the_molecules_not_a_dataset_none():
    data = load_dataset("bbbp").train.subset(np.arange(40))
    model = GINClassifier(epochs=1, random_state=0, **TINY).fit(data)
    with pytest.raises(ValueError, match="the molecules given: 1 empty SMILES at positions 0"):
        model.predict(["", "CC"])


# -- unusual chemistry: metals, isotopes, molecules without bonds, large molecules ---------
CHEMISTRY = {
    "metals": ["N.N.Cl[Pt]Cl", "[Fe+2].c1cc[cH-]c1.c1cc[cH-]c1", "C[Hg]Cl", "[Li]CCCC",
               "[K+].[O-][Mn](=O)(=O)=O", "Cl[Gd](Cl)Cl", "CC(=O)[O-].CC(=O)[O-].[Zn+2]",
               "[U]", "[Cu+2].[O-]S(=O)(=O)[O-]", "N[Pt](N)(Cl)Cl"],
    "isotopes and charges": ["[2H]OC([2H])([2H])[2H]", "[13CH4]", "[18F]c1ccccc1",
                             "C[N+](C)(C)C", "CC(=O)[O-]", "[H][H]", "[H+]", "[He]", "[Xe]",
                             "[NH4+]"],
    "no bonds": ["[Na+].[Cl-]", "C", "[Ar]", "O", "[K+].[Br-]", "N", "[Ne]",
                 "[Ca+2].[Cl-].[Cl-]", "S", "[Mg+2]"],
}


@pytest.mark.probe("CHEM-01", "CHEM-02", "CHEM-03")
@pytest.mark.parametrize("kind", list(CHEMISTRY))
@pytest.mark.parametrize("cls", [GINRegressor, GraphormerRegressor],
                         ids=["GINRegressor", "GraphormerRegressor"])
def test_unusual_chemistry_fits_and_predicts(cls, kind):
    smiles = CHEMISTRY[kind]
    data = MoleculeDataset(smiles, np.arange(len(smiles), dtype=float), name="unusual")
    predictions = np.asarray(tiny(cls).fit(data).predict(smiles))
    assert len(predictions) == len(smiles) and np.isfinite(predictions).all()


@pytest.mark.probe("CHEM-04")
def test_a_300_atom_molecule_fits_and_graphormer_keeps_max_nodes_of_it():
    smiles = ["CC(C)" * 100, "CCO", "CCN", "c1ccccc1"]
    data = MoleculeDataset(smiles, [1.0, 2.0, 3.0, 4.0], name="large")
    assert np.isfinite(tiny(GINRegressor).fit(data).predict(smiles)).all()
    for max_nodes in (128, 512):    # the first 128 atoms (documented), then all 300
        model = tiny(GraphormerRegressor, max_nodes=max_nodes).fit(data)
        assert np.isfinite(model.predict(smiles)).all()

