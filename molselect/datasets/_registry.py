"""The registry of the 15 MoleculeNet-style datasets used by MolGroup.

Each dataset is described by a frozen :class:`DatasetInfo`: its tasks, task
type, metric, the paper's split, where DeepChem publishes the raw file and how
to turn that raw file into molselect's normalised ``<name>.csv.gz`` layout
(first column ``smiles``, one numeric column per task, missing = empty).

Task names live in the bundled ``data/_tasks.csv.gz`` (dataset, task) rather
than in this module: toxcast (617) and chembl (691) would otherwise bury the
registry in names.  They were read from the headers of the reference copies in
``shared/data/moleculenet``; the 128 PCBA names are DeepChem's ``PCBA_TASKS``
(``deepchem/molnet/load_function/pcba_datasets.py``, deepchem 2.8), which are
the column names of DeepChem's ``pcba.csv.gz``.

Raw-file checksums: we could not download DeepChem's files when this registry
was written, so ``DatasetInfo.sha256`` is ``None`` for all of them.  A download
with no recorded checksum is accepted, and a warning reports the file's sha256
so that it can be pinned with :func:`register`; a download whose checksum is
recorded and differs is rejected and nothing is cached.
"""

from __future__ import annotations

import csv
import difflib
import gzip
from dataclasses import dataclass
from pathlib import Path

from ..metrics import METRICS
from ._base import CLASSIFICATION, REGRESSION, TASK_TYPES

__all__ = ["DatasetInfo", "get_dataset_info", "register", "dataset_names"]

DATA_DIR = Path(__file__).resolve().parent / "data"
_S3 = "https://deepchemdata.s3-us-west-1.amazonaws.com/datasets/"


@dataclass(frozen=True)
class DatasetInfo:
    """Static description of one registered dataset.

    Parameters
    ----------
    name : str
        Registry key and the ``name`` of every dataset the loader returns.
    tasks : tuple of str
        Task (label column) names, in file order.
    task_type : {"classification", "regression"}
        The type of every task.
    metric : {"roc_auc", "average_precision", "rmse", "mae"}
        The metric the paper reports for this dataset.
    split : {"scaffold", "random"}
        The paper's split.
    n_rows : int
        Rows of the reference normalised file (before dropping SMILES that
        RDKit cannot parse).
    url : str or None
        Canonical download URL of the raw file (DeepChem's S3 bucket).
    sha256 : str or None
        sha256 of the raw file at ``url``; ``None`` when unknown.
    raw_smiles_col : str
        SMILES column of the raw file (renamed to ``smiles``).
    raw_renames : tuple of (str, str)
        Further raw column -> task renames applied before the tasks are
        selected.
    description : str
        One line about the dataset.
    bundled : str or None
        File name inside the package's ``data/`` folder when a copy (or, for
        qm8 / qm9, a sample) ships with molselect.
    max_molecules : int or None
        Default number of molecules the loader samples (the paper samples
        3,000 molecules of qm8 and qm9); ``None`` keeps all.
    csv_sha256 : str or None
        sha256 of the reference normalised ``<name>.csv.gz`` (from the shared
        data's MANIFEST.tsv); informative only, a data home may hold another
        version.
    """

    name: str
    tasks: tuple
    task_type: str
    metric: str
    split: str
    n_rows: int
    url: str | None
    sha256: str | None = None
    raw_smiles_col: str = "smiles"
    raw_renames: tuple = ()
    description: str = ""
    bundled: str | None = None
    max_molecules: int | None = None
    csv_sha256: str | None = None

    def __post_init__(self):
        # Lists would make the frozen dataclass unhashable and mutable.
        object.__setattr__(self, "tasks", tuple(self.tasks))
        object.__setattr__(self, "raw_renames", tuple(tuple(p) for p in self.raw_renames))
        if self.task_type not in TASK_TYPES:
            raise ValueError(f"{self.name}: unknown task type {self.task_type!r}")
        if self.metric not in METRICS:
            raise ValueError(f"{self.name}: unknown metric {self.metric!r}")
        if self.split not in ("scaffold", "random"):
            raise ValueError(f"{self.name}: unknown split {self.split!r}")
        if not self.tasks:
            raise ValueError(f"{self.name}: a dataset needs at least one task")

    @property
    def n_tasks(self):
        """int: the number of tasks."""
        return len(self.tasks)

    @property
    def task_types(self):
        """list of str: the task type of each task."""
        return [self.task_type] * len(self.tasks)

    @property
    def raw_filename(self):
        """str or None: the file name of the raw download (last URL component)."""
        return None if not self.url else self.url.rstrip("/").rsplit("/", 1)[-1]


def _read_tasks():
    tasks = {}
    with gzip.open(DATA_DIR / "_tasks.csv.gz", "rt", newline="") as handle:
        reader = csv.reader(handle)
        next(reader)
        for dataset, task in reader:
            tasks.setdefault(dataset, []).append(task)
    return tasks


def _builtin():
    t = _read_tasks()
    C, R = CLASSIFICATION, REGRESSION
    return [
        DatasetInfo("hiv", t["hiv"], C, "roc_auc", "scaffold", 41127, _S3 + "HIV.csv",
                    description="HIV replication inhibition (DTP AIDS antiviral screen).",
                    csv_sha256="ecb7265aaf5e50e03e9aa0f4119c6dbc80ae9e17f7d6b22a066979d34e05b240"),
        DatasetInfo("pcba", t["pcba"], C, "average_precision", "scaffold", 437929,
                    _S3 + "pcba.csv.gz",
                    description="128 PubChem BioAssay screens (DeepChem PCBA-128)."),
        DatasetInfo("tox21", t["tox21"], C, "roc_auc", "scaffold", 7831, _S3 + "tox21.csv.gz",
                    description="Tox21 challenge: 12 nuclear-receptor and stress-response assays.",
                    bundled="tox21.csv.gz",
                    csv_sha256="a8f5b4744c25cad36a06f28dd40e789541d6bd34bab93d32626393f974110941"),
        DatasetInfo("bace", t["bace"], C, "roc_auc", "scaffold", 1513, _S3 + "bace.csv",
                    raw_smiles_col="mol",
                    description="BACE-1 inhibitors, binary label.", bundled="bace.csv.gz",
                    csv_sha256="7e84effa37e4cba2bdd010789a802c45947b2104e001e004050943896c0738fb"),
        DatasetInfo("bbbp", t["bbbp"], C, "roc_auc", "scaffold", 2039, _S3 + "BBBP.csv",
                    description="Blood-brain barrier penetration.", bundled="bbbp.csv.gz",
                    csv_sha256="65930ad240172cc74a46d97ca3a545139efc61922bdc24c4125005feedcd4389"),
        DatasetInfo("clintox", t["clintox"], C, "roc_auc", "scaffold", 1478,
                    _S3 + "clintox.csv.gz",
                    description="FDA approval and clinical-trial toxicity.",
                    bundled="clintox.csv.gz",
                    csv_sha256="d1a199e599d1dc49009928a33f8be69807d65fbb783d06b840d7558d09681e79"),
        DatasetInfo("muv", t["muv"], C, "average_precision", "scaffold", 93087,
                    _S3 + "muv.csv.gz",
                    description="Maximum Unbiased Validation: 17 sparse PubChem assays.",
                    csv_sha256="7493abd5d2db4198fd0daa6b3c710fa4c31566463e2c58814ec088a05403b023"),
        DatasetInfo("sider", t["sider"], C, "roc_auc", "scaffold", 1427, _S3 + "sider.csv.gz",
                    description="Side effects of marketed drugs, 27 organ classes.",
                    bundled="sider.csv.gz",
                    csv_sha256="ebf65c641eaaaf1702e39faaadde886bfc8c5245fa34c4a55087327dabddead7"),
        DatasetInfo("toxcast", t["toxcast"], C, "roc_auc", "scaffold", 8576,
                    _S3 + "toxcast_data.csv.gz",
                    description="ToxCast in-vitro high-throughput screens (617 assays).",
                    bundled="toxcast.csv.gz",
                    csv_sha256="852ca9aaee6381c5048441c05d45584d85193bd7c68c3cd02a67445873dfc31b"),
        DatasetInfo("chembl", t["chembl"], R, "rmse", "scaffold", 23871,
                    _S3 + "chembl_5thresh.csv.gz",
                    description="DeepChem's ChEMBL '5thresh' activity set (regression; stands "
                                "in for the paper's binary chembl_filtered).",
                    csv_sha256="e2d0307dc0435a7e58bd4aaf721b70b6ccce69c510b3b03d0f6ca9e6677ea163"),
        DatasetInfo("esol", t["esol"], R, "rmse", "scaffold", 1128,
                    _S3 + "delaney-processed.csv",
                    description="ESOL (Delaney) aqueous solubility, log mol/L.",
                    bundled="esol.csv.gz",
                    csv_sha256="4da56fcc523c5b2eaa93eb2a3a27b58ec16b271bcb3f1d10599ae8c708e832e8"),
        DatasetInfo("freesolv", t["freesolv"], R, "rmse", "scaffold", 642, _S3 + "SAMPL.csv",
                    description="FreeSolv hydration free energies, kcal/mol.",
                    bundled="freesolv.csv.gz",
                    csv_sha256="263390c77f16446c6bced932d908807c0edcda31a4589fbcb586456d7774e9de"),
        DatasetInfo("lipo", t["lipo"], R, "rmse", "scaffold", 4200,
                    _S3 + "Lipophilicity.csv",
                    description="Lipophilicity (octanol/water logD at pH 7.4).",
                    bundled="lipo.csv.gz",
                    csv_sha256="be45547393841967eecea772e3fe4c431d929e2e284f8b829da96e1d2e77cb7b"),
        DatasetInfo("qm8", t["qm8"], R, "mae", "random", 21786, _S3 + "qm8.csv",
                    description="QM8 electronic spectra (12 DeepChem tasks); the paper samples "
                                "3,000 molecules.",
                    bundled="qm8_sample3000.csv.gz", max_molecules=3000,
                    csv_sha256="c3f61f0d0b1c5d16a2cee049d82bc484f4e19a620c999e005af34c7e2e5cc820"),
        DatasetInfo("qm9", t["qm9"], R, "mae", "random", 130831, _S3 + "qm9.csv",
                    description="QM9 quantum properties (12 DeepChem tasks; reference copy has "
                                "130,831 rows, DeepChem's 133,885); the paper samples 3,000.",
                    bundled="qm9_sample3000.csv.gz", max_molecules=3000,
                    csv_sha256="94301df3c639031eeec81750fe07d29f30bdfd976a69f1ce3ccfcf0a070bf08f"),
    ]


_REGISTRY = {info.name: info for info in _builtin()}


def dataset_names():
    """Names of every registered dataset, in registry order.

    Returns
    -------
    list of str
    """
    return list(_REGISTRY)


def register(info, overwrite=False):
    """Add (or with ``overwrite=True`` replace) a dataset description.

    Used to pin a checksum, point a dataset at a mirror, or register a new
    dataset, e.g.
    ``register(dataclasses.replace(get_dataset_info("hiv"), sha256="..."), overwrite=True)``.

    Parameters
    ----------
    info : DatasetInfo
        The description; ``info.name`` is the key.
    overwrite : bool, default False
        Whether an existing entry of the same name may be replaced.

    Returns
    -------
    DatasetInfo or None
        The entry that was replaced, if any.
    """
    if not isinstance(info, DatasetInfo):
        raise TypeError(f"register() needs a DatasetInfo, got {type(info).__name__}")
    previous = _REGISTRY.get(info.name)
    if previous is not None and not overwrite:
        raise ValueError(f"dataset {info.name!r} is already registered; pass overwrite=True")
    _REGISTRY[info.name] = info
    return previous


def get_dataset_info(name):
    """Return the :class:`DatasetInfo` of a registered dataset.

    Parameters
    ----------
    name : str
        Dataset name, case-insensitive (``"bbbp"``, ``"QM9"``...).

    Returns
    -------
    DatasetInfo

    Raises
    ------
    ValueError
        For an unknown name; the message lists the known names and the
        closest match.
    """
    if isinstance(name, DatasetInfo):
        return name
    key = str(name).strip().lower()
    if key in _REGISTRY:
        return _REGISTRY[key]
    close = difflib.get_close_matches(key, list(_REGISTRY), n=1)
    hint = f" Did you mean {close[0]!r}?" if close else ""
    if any(sep in str(name) for sep in ("/", "\\")) or str(name).startswith("."):
        # It looks like a path: say that no such file exists, not only that no dataset does.
        hint = f" No file {str(name)!r} exists either (CSV files need to exist to be read)."
    raise ValueError(
        f"unknown dataset {name!r}.{hint} Known datasets: {', '.join(_REGISTRY)}"
    )
