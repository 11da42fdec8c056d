# The two commands a fresh machine needs (see README):
#   make demo   install everything, start + seed the local stack, open the explorer
#   make test   install everything, run the whole test suite against the real stack
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin

.PHONY: demo test install prereqs daprd agents-venv clean-stack-cache

demo: install
	$(BIN)/dapr-explorer demo

test: install
	$(BIN)/pytest

install: prereqs $(VENV)/.installed stack/cosmos/node_modules/.installed daprd agents-venv

prereqs:
	@bash stack/install-prereqs.sh

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

stack/cosmos/node_modules/.installed: stack/cosmos/package.json stack/cosmos/package-lock.json
	npm ci --prefix stack/cosmos --no-audit --no-fund --loglevel=error
	touch $@

daprd:
	@bash stack/build-daprd.sh >/dev/null
	@bash stack/build-dapr-services.sh >/dev/null  # placement + scheduler for actor/workflow stacks (cached)

# The dapr-agents app's own venv (stack/agents/requirements.txt; dapr-agents pins a Dapr SDK ours
# cannot share), installed once into the same cache: the stack would install it at its first start.
agents-venv: $(VENV)/.installed
	@$(BIN)/python -c 'from explorer.localstack.installs import agents_python; agents_python()'

clean-stack-cache:
	rm -rf "$${DAPR_EXPLORER_CACHE:-$${XDG_CACHE_HOME:-$$HOME/.cache}/dapr-explorer}"
