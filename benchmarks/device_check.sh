#!/usr/bin/env bash
# The GPU checks in one short run, for a machine with an NVIDIA GPU (the device tool's
# `run`, or any CUDA machine): the model-training tests on CUDA, MolGroup's step and round
# costs, the estimators' throughput, and last the paper-sized MolGroup selection (the one
# part that needs more than a few minutes: it did not finish in 240 s on an H200).
# Each part has its own time limit, so one that hangs leaves the others their time; the
# figures and logs go to $OUT (default /tmp/molselect-device), the benchmark reports there
# too (MOLSELECT_BENCH_RESULTS), never over the CPU figures in benchmarks/results/.
#
# Set-up it expects, in the repository root: the large datasets under .devdata/moleculenet
# (or MOLSELECT_DATA), and wheels under .whl/ for what the machine's Python lacks (RDKit
# on the workplace's CUDA image), e.g.
#   cp -r ../shared/data/moleculenet .devdata/
#   pip download --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
#       --platform manylinux_2_28_x86_64 -d .whl rdkit==2026.9.1
# Usage: bash benchmarks/device_check.sh [test-seconds bench-seconds selection-seconds]
set -uo pipefail
cd "$(dirname "$0")/.."
OUT="${OUT:-/tmp/molselect-device}"; mkdir -p "$OUT"
T_TESTS="${1:-150}"; T_BENCH="${2:-150}"; T_SELECTION="${3:-600}"
export PYTHONUNBUFFERED=1 MPLBACKEND=Agg
export MOLSELECT_DATA="${MOLSELECT_DATA:-$PWD/.devdata/moleculenet}"
export MOLSELECT_CACHE="${MOLSELECT_CACHE:-/tmp/molselect-cache}"
export MOLSELECT_BENCH_RESULTS="$OUT"
if compgen -G ".whl/*.whl" >/dev/null; then
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
    --target /tmp/site .whl/*.whl || exit 1
  export PYTHONPATH=/tmp/site
fi
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"

step() { echo; echo "=== $1 ($(date +%T))"; }

step "machine"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
python3 -c "import torch, torch_geometric, rdkit, sklearn, molselect
print('torch', torch.__version__, 'cuda', torch.version.cuda, 'available', torch.cuda.is_available(),
      '| pyg', torch_geometric.__version__, '| rdkit', rdkit.__version__, '| sklearn', sklearn.__version__)" \
  || exit 1

# Tests marked repeats_exactly skip themselves here: seeded CUDA fits do not repeat.
step "tests on CUDA (MOLSELECT_TEST_DEVICE=cuda), limit ${T_TESTS}s"
MOLSELECT_TEST_DEVICE=cuda timeout "$T_TESTS" python3 -m pytest -q -p no:cacheprovider \
  -n 8 -m "not slow and not docs" -o addopts="" -rs --junitxml="$OUT/cuda_tests.xml" \
  tests/test_models.py tests/test_core.py tests/test_graphormer.py tests/test_molgroup.py \
  tests/test_selectors.py tests/test_baselines.py tests/test_verified.py tests/test_subsets.py \
  tests/test_evaluation.py tests/test_pipeline.py 2>&1 | tee "$OUT/cuda_tests.log" | tail -40
echo "pytest exit: ${PIPESTATUS[0]}"

step "MolGroup step and round cost on CUDA, limit ${T_BENCH}s"
timeout "$T_BENCH" python3 -m benchmarks.bench_molgroup --steps --round --device cuda \
  --out "$OUT/molgroup_cuda.json" 2>&1 | tee "$OUT/molgroup_cuda.log" | tail -30
echo "molgroup bench exit: ${PIPESTATUS[0]}"

step "GIN and Graphormer throughput on CUDA, limit ${T_BENCH}s"
timeout "$T_BENCH" python3 -m benchmarks.bench_models --device cuda --out "$OUT" 2>&1 | tail -30
echo "models bench exit: ${PIPESTATUS[0]}"

step "paper-sized MolGroup selection on CUDA (bbbp against every other dataset), limit ${T_SELECTION}s"
timeout "$T_SELECTION" python3 -m benchmarks.bench_molgroup --selection --device cuda \
  --preset paper --selection-target bbbp --featurize-jobs -1 --out "$OUT/molgroup_selection_cuda.json" \
  2>&1 | tee "$OUT/molgroup_selection_cuda.log" | grep -v "leaked" | tail -40
echo "selection exit: ${PIPESTATUS[0]}"
step "done"
