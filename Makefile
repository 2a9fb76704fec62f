# tlkit: a hands-on workbook on transfer learning.
# Every target bootstraps .venv on first use, so a fresh clone needs only
# python3 (>= 3.10), make and access to the package index.

PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-stamp
# One BLAS thread: on small shared machines two threads contend and run slower
# (see benchmarks/README.md). Override with `make test BLAS_THREADS=2`.
BLAS_THREADS ?= 1
export OPENBLAS_NUM_THREADS = $(BLAS_THREADS)
export OMP_NUM_THREADS = $(BLAS_THREADS)
export MKL_NUM_THREADS = $(BLAS_THREADS)
# studies/, tools/ and benchmarks/ are importable from any folder (notebook kernels start in theirs).
export PYTHONPATH := $(CURDIR)$(if $(PYTHONPATH),:$(PYTHONPATH))
# No BLAS kernel is pinned: OpenBLAS picks its own. The notebooks check the lesson, not the
# digits (tlkit.claims), so `make nbval` passes on any kernel; `make nbval-matrix` runs it
# under several (tools/kernel_matrix.py). `make bench` chooses its own kernel (benchmarks/blas_kernel.py).

NBVAL := --nbval-current-env --nbval-sanitize-with solutions/nbval_sanitize.cfg -p no:cacheprovider

.PHONY: help install lab test lint unit widgets-ipyw7 nbval nbval-matrix notebooks grade bench pretrain clean screenshots

help:
	@echo "make lab        open JupyterLab on the workbook"
	@echo "make test       lint, unit tests (widgets also under ipywidgets 7.7), and execute every notebook with nbval"
	@echo "make nbval-matrix  nbval on the solutions under several BLAS kernels"
	@echo "make screenshots  PNG pages of every notebook after Run All (docs/screenshots/)"
	@echo "make notebooks  regenerate notebooks/ (student versions) from solutions/"
	@echo "make grade SUBMISSIONS=dir OUT=new-dir   grade a class of filled-in notebooks (sandboxed)"
	@echo "make release   the student bundle (build/tlkit-student.tar.gz): no solutions, no hidden tests"
	@echo "make bench      speed of tlkit against PyTorch on the CPU"
	@echo "make pretrain   retrain the shipped checkpoints (tlkit/weights/)"

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[notebooks,test,grading]"
	touch $(STAMP)

install: $(STAMP)

# A second, small environment with Colab's widget stack (ipywidgets 7.7.1, numpy 2.1, matplotlib
# 3.10): tests/widgets run there as well as in .venv (ipywidgets 8). ipywidgets 7.7.1's own
# requirements pull the classic notebook server (widgetsnbextension), which a kernel does not
# need, so its runtime requirements are installed first and ipywidgets itself with --no-deps.
IPYW7_VENV  := .venv-ipyw7
IPYW7_STAMP := $(IPYW7_VENV)/.installed-stamp
# numpy 2.1 and matplotlib 3.10 have wheels up to Python 3.13 (Colab's are 3.12-3.13); a newer
# Python gets their current releases.
IPYW7_PACKAGES := "numpy~=2.1.0; python_version < '3.14'" "numpy; python_version >= '3.14'" \
	"matplotlib~=3.10.0; python_version < '3.14'" "matplotlib; python_version >= '3.14'" \
	pytest ipykernel ipython traitlets ipython_genutils

$(IPYW7_STAMP): Makefile
	test -x $(IPYW7_VENV)/bin/python || $(PYTHON) -m venv $(IPYW7_VENV)
	$(IPYW7_VENV)/bin/python -m pip install --quiet $(IPYW7_PACKAGES)
	$(IPYW7_VENV)/bin/python -m pip install --quiet --no-deps ipywidgets==7.7.1
	touch $(IPYW7_STAMP)

widgets-ipyw7: $(IPYW7_STAMP)
	$(IPYW7_VENV)/bin/python -m pytest -p no:cacheprovider -W "ignore::DeprecationWarning" tests/widgets

# As root (containers, CI images) Jupyter refuses to start without --allow-root; with no
# display it opens no browser and prints the URL to open, then keeps serving (Ctrl-C stops it).
LAB_FLAGS ?= $(if $(filter 0,$(shell id -u)),--allow-root) $(if $(DISPLAY)$(WAYLAND_DISPLAY),,$(if $(filter Darwin,$(shell uname -s)),,--no-browser))
lab: $(STAMP)
	$(VENV)/bin/jupyter lab $(LAB_FLAGS) notebooks/00_introduction.ipynb

test: lint unit widgets-ipyw7 nbval

lint: $(STAMP)
	$(PY) -m ruff check .

unit: $(STAMP)
	$(PY) -m pytest tests

nbval: $(STAMP)
	$(PY) -m pytest --nbval $(NBVAL) solutions/
	$(PY) -m pytest --nbval-lax $(NBVAL) notebooks/

# nbval (strict) on solutions/ with OpenBLAS's HASWELL, SKYLAKEX and SANDYBRIDGE kernels and with
# numpy's AVX-512 loops disabled: PASS/FAIL and time per kernel.
nbval-matrix: $(STAMP)
	$(PY) -m tools.kernel_matrix

# Each student notebook after Run All in JupyterLab (headless chromium), as PNG pages in
# docs/screenshots/pages/ (not committed), plus the small explorer and LR-plot images of the README.
screenshots: $(STAMP)
	$(PY) tests/browser/screenshots.py

notebooks: $(STAMP)
	$(PY) -m instructor.build_notebooks

# Grade a class (see README, "Grading"): make grade SUBMISSIONS=dir OUT=new-dir [JOBS=2] [TIMEOUT=30] [ROSTER=file] [SEED=S]
JOBS ?= 2
TIMEOUT ?= 30
grade: $(STAMP)
	@test -n "$(SUBMISSIONS)" -a -n "$(OUT)" || (echo "usage: make grade SUBMISSIONS=dir OUT=new-dir [JOBS=2] [TIMEOUT=30] [ROSTER=file] [SEED=S]" && exit 2)
	$(PY) -m instructor.grading $(SUBMISSIONS) --out $(OUT) --jobs $(JOBS) --timeout $(TIMEOUT) $(if $(ROSTER),--roster $(ROSTER)) $(if $(SEED),--seed $(SEED))

# The student bundle: notebooks built from solutions/, the library, no solutions, no hidden tests.
release: $(STAMP)
	$(PY) -m instructor.release

bench: $(STAMP)
	$(PY) -m pip install --quiet -e ".[bench]"
	$(PY) -m benchmarks.run

pretrain: $(STAMP)
	$(PY) -m studies.pretrain --all

clean:
	rm -rf $(VENV) $(IPYW7_VENV) .pytest_cache .ruff_cache build *.egg-info
