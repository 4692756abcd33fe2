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

# Rebuild the convolutional digit model engine/pretrained/digits.npz from MNIST and fonts
# (bench/get_fonts.sh fetches the fonts it was made with; timings in engine/pretrained/README.md).
# The dense model engine/pretrained/digits_dense.npz: $(BIN)/python bench/pretrain.py
model: $(READY)
	$(BIN)/python bench/pretrain.py --arch cnn

clean:
	rm -rf $(VENV) .pytest_cache
