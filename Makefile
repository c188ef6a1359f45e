VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
# DCGAN at half width with DiffAugment, a higher learning rate and a weight average: the demo
# finishes in about 4 minutes on 2 cores (docs/results.md). Any spec: make run SPEC=specs/x.yaml
SPEC   ?= specs/dcgan_diffaugment.yaml
RUN_ARGS ?=

.PHONY: install run test lint fuzz faults bench screenshots digits-data schema clean

install: $(STAMP)

$(STAMP): pyproject.toml constraints.txt
	python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -c constraints.txt -e '.[gui,dev]'
	touch $(STAMP)

run: $(STAMP)
	$(VENV)/bin/ganbuilder run $(SPEC) $(RUN_ARGS) --out runs/make-run

test: $(STAMP)
	QT_QPA_PLATFORM=offscreen $(PY) -m pytest
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports --no-cache

# The published spec schema that editors read (tests fail when it drifts from `ganbuilder schema`).
schema: $(STAMP)
	$(VENV)/bin/ganbuilder schema > schema/spec-v1.json

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports --no-cache

# 10,000 mutated specs through `validate`: no traceback, no hang, every error located.
fuzz: $(STAMP)
	$(PY) scripts/fuzz.py --cases 10000

# Every write of run, sample, export, eject, flatten, translate and evaluate fails in turn:
# one message, exit 2, nothing that was there lost (scripts/faults.py; --tmpfs, as root, also
# fills a real disk).
faults: $(STAMP)
	$(PY) scripts/faults.py

# DCGAN, pix2pix (128 px) and CycleGAN iterations against hand-written PyTorch, at reduced
# sizes (printed first) so that it takes a few minutes on 2 cores.
bench: $(STAMP)
	$(PY) benchmarks/bench_training_steps.py

screenshots: $(STAMP)
	QT_QPA_PLATFORM=offscreen $(PY) scripts/screenshots.py

# ganbuilder/data/digits.npz from scikit-learn's digits (the dev extra); same bytes on a rebuild.
digits-data: $(STAMP)
	$(PY) scripts/build_digits.py

clean:
	rm -rf $(VENV) runs
