# SPDX-License-Identifier: MIT
# Thin wrapper over meson. `make` builds build/tachyon-c; `make check` installs what is
# missing, provisions the test interpreters, builds, and runs every test; `make demo` shows
# a real profile of a small workload.
BUILD ?= build
MESON ?= meson
PYTHON ?= /usr/bin/python3

.PHONY: all deps check unit functional demo clean provision

all: $(BUILD)/build.ninja
	ninja -C $(BUILD)

$(BUILD)/build.ninja:
	@scripts/deps.sh build
	$(MESON) setup $(BUILD)

deps:
	@scripts/deps.sh check

provision: deps
	scripts/provision.sh >/dev/null

unit: all
	$(MESON) test -C $(BUILD) --print-errorlogs
	$(PYTHON) scripts/check_results.py $(BUILD)

functional: all provision
	$(PYTHON) -m pytest -q tests/functional

check: deps
	$(MAKE) all
	$(MAKE) provision
	$(MESON) test -C $(BUILD) --print-errorlogs
	$(PYTHON) scripts/check_results.py $(BUILD)
	$(PYTHON) -m pytest -q -rs -p no:cacheprovider tests/functional

demo: all
	scripts/demo.sh $(BUILD)/tachyon-c

clean:
	rm -rf $(BUILD)

# Fuzzing (tests/fuzz/README.md): build the libFuzzer harnesses with clang in build-fuzz/ and
# run each for FUZZ_SECONDS; fails when one finds a crash (input in build-fuzz/crashes/).
FUZZ_SECONDS ?= 60
.PHONY: fuzz sanitize
fuzz:
	scripts/fuzz.sh $(FUZZ_SECONDS)

# ASan + UBSan build in build-sanitize/: unit tests and a functional subset; fails on any
# test failure or sanitizer report.
sanitize: provision
	PYTHON=$(PYTHON) scripts/sanitize.sh

# Oracle stress suite (tests/stress/README.md): every oracle target on every interpreter,
# sampled with attach at STRESS_RATE for STRESS_SECONDS and with STRESS_DUMPS dumps; fails on
# any impossible stack or tachyon-c crash. The short version runs in `make check`.
STRESS_SECONDS ?= 20
STRESS_RATE ?= 10k
STRESS_DUMPS ?= 50
.PHONY: stress
stress: all provision
	TACHYON_C=$(BUILD)/tachyon-c $(PYTHON) tests/stress/run.py -d $(STRESS_SECONDS) \
		-r $(STRESS_RATE) -n $(STRESS_DUMPS) $(STRESS_ARGS)
