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

.PHONY: help install lab test lint unit nbval nbval-matrix notebooks grade bench pretrain clean screenshots

help:
	@echo "make lab        open JupyterLab on the workbook"
	@echo "make test       lint, unit tests, and execute every notebook with nbval"
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

# As root (containers, CI images) Jupyter refuses to start without --allow-root; with no
# display it opens no browser and prints the URL to open, then keeps serving (Ctrl-C stops it).
LAB_FLAGS ?= $(if $(filter 0,$(shell id -u)),--allow-root) $(if $(DISPLAY)$(WAYLAND_DISPLAY),,$(if $(filter Darwin,$(shell uname -s)),,--no-browser))
lab: $(STAMP)
	$(VENV)/bin/jupyter lab $(LAB_FLAGS) notebooks/00_introduction.ipynb

test: lint unit nbval

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
	rm -rf $(VENV) .pytest_cache .ruff_cache build *.egg-info
