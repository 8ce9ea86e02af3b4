# The two commands of the README: `make run` and `make test`. Everything else is for developers.
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test bench check lint clean browser sandbox-tools lock

# A virtualenv on a Python 3.12+, with the project's dependencies exactly as requirements.lock pins them;
# redone when the lock or pyproject.toml changes. `make lock` upgrades the lock, on purpose.
$(STAMP): requirements.lock pyproject.toml
	@if ! [ -x $(BIN)/python ] || ! $(BIN)/python -c 'import sys; sys.exit(sys.version_info < (3, 12))'; then \
	  py=$$(scripts/find-python) || exit 1; \
	  echo "Creating $(VENV) with $$py"; rm -rf $(VENV); "$$py" -m venv $(VENV) || exit 1; \
	fi
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -r requirements.lock
	$(BIN)/python -m pip install -q --no-deps -e .
	@touch $(STAMP)

# Re-resolve every dependency to its newest allowed version (for Python 3.12 and later), with uv.
lock: $(STAMP)
	$(BIN)/python -m pip install -q uv
	$(BIN)/python -m uv pip compile pyproject.toml --extra test --universal --python-version 3.12 --upgrade \
	  --no-header -o requirements.lock

# Database, courses and demo accounts; then every process in the foreground until Ctrl-C.
run: $(STAMP) sandbox-tools
	$(BIN)/python manage.py migrate --no-input -v0
	$(BIN)/python manage.py loadcourses
	$(BIN)/python manage.py demo_users
	exec $(BIN)/python manage.py runlab

# The learners' console runs commands under bubblewrap (Debian's package): `make run` and `make test` need it.
sandbox-tools:
	@command -v bwrap >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "Installing Debian's bubblewrap for the learners' console"; \
	    apt-get install -y -qq bubblewrap >/dev/null 2>&1 || (apt-get update -qq && apt-get install -y -qq bubblewrap >/dev/null) \
	      || echo "WARNING: could not install bubblewrap: the console and lab test will not work"; \
	  else echo "WARNING: bubblewrap is missing (apt-get install bubblewrap as root): the console and lab test will not work"; fi; }

# Chromium for the browser tests comes from Debian; say what is missing when it cannot be installed.
browser: sandbox-tools
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "Installing Debian's chromium for the browser tests"; \
	    (apt-get install -y -qq chromium >/dev/null 2>&1 || (apt-get update -qq && apt-get install -y -qq chromium >/dev/null)) \
	      || echo "WARNING: could not install chromium; browser tests will be skipped"; \
	  else echo "WARNING: chromium is missing (apt-get install chromium as root); browser tests will be skipped"; fi; }

test: $(STAMP) browser
	$(BIN)/python manage.py loadcourses --check
	$(BIN)/python -m pytest $(PYTEST_ARGS)

bench: $(STAMP)
	$(BIN)/python bench/run_all.py

lint: $(STAMP)
	$(BIN)/python -m ruff check labapp tests bench || true

clean:
	rm -rf var/test* .pytest_cache
