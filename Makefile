# Two commands on a fresh machine: `make run` serves the app, `make test` runs every test.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
READY  := $(VENV)/.installed

.PHONY: run test bench model clean

$(READY): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(READY)

run: $(READY)
	$(BIN)/nnplay serve

test: $(READY)
	$(BIN)/python -m pytest

# Rebuild engine/pretrained/digits.npz from MNIST (about 7 minutes on 2 cores).
model: $(READY)
	$(BIN)/python bench/pretrain.py

clean:
	rm -rf $(VENV) .pytest_cache
