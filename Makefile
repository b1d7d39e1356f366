# instant — build, test and run. Quick start: `make demo` (server + demo) and `make test` (everything).
# Every target that needs tools depends on `setup`, which installs them on a fresh Debian 12 (idempotent).

SHELL := /bin/bash
JOBS ?= $(shell nproc)
BUILD ?= build
ASAN_BUILD ?= build-asan
FUZZ_BUILD ?= build-fuzz
CMAKE_COMMON := -G Ninja -DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_EXE_LINKER_FLAGS=-fuse-ld=mold
export CCACHE_DIR ?= $(HOME)/.cache/ccache

APT_PACKAGES := build-essential cmake ninja-build pkg-config ccache mold clang-14 libclang-rt-14-dev \
  libasio-dev libsimdjson-dev libssl-dev libfmt-dev libcli11-dev libgtest-dev libgmock-dev \
  libbenchmark-dev valgrind wrk redis-server procps python3-venv
FUZZ_SECONDS ?= 20

.PHONY: setup build asan fuzz-build unit-test asan-test integration-test python-test js-test fuzz-smoke perf-gate test fuzz demo bench soak clean

setup:
	@tools/setup.sh $(APT_PACKAGES)
	@tools/python_setup.sh
	@tools/js_setup.sh

build: setup
	@cmake -S . -B $(BUILD) $(CMAKE_COMMON) -DCMAKE_BUILD_TYPE=Release >/dev/null
	@cmake --build $(BUILD) -j $(JOBS)
	@echo "built $(BUILD)/instant"

asan: setup
	@cmake -S . -B $(ASAN_BUILD) $(CMAKE_COMMON) -DCMAKE_BUILD_TYPE=Debug -DINSTANT_SANITIZE=ON -DINSTANT_BENCH=OFF >/dev/null
	@cmake --build $(ASAN_BUILD) -j $(JOBS)

fuzz-build: setup
	@cmake -S . -B $(FUZZ_BUILD) -G Ninja -DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_CXX_COMPILER=clang++-14 \
	  -DCMAKE_BUILD_TYPE=RelWithDebInfo -DINSTANT_FUZZ=ON >/dev/null
	@cmake --build $(FUZZ_BUILD) -j $(JOBS) --target fuzzers

unit-test: build
	@cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

asan-test: asan
	@cd $(ASAN_BUILD) && ctest --output-on-failure -j $(JOBS)
	@INSTANT_BIN=$(CURDIR)/$(ASAN_BUILD)/instant tools/integration.sh

# Twice: as is, then with every engine answer deferred by a loop turn (the Redis engine's timing).
integration-test: build
	@INSTANT_BIN=$(CURDIR)/$(BUILD)/instant tools/integration.sh
	@INSTANT_TEST_DEFER_ENGINE=1 INSTANT_BIN=$(CURDIR)/$(BUILD)/instant tools/integration.sh

# The Django app's suite on Django 5.2 LTS and 6.x (and 4.2), against the real binary.
python-test: build
	@INSTANT_BIN=$(CURDIR)/$(BUILD)/instant tools/python_test.sh

# The JS client: unit tests, the client in Node against the real binary, headless Chromium on the
# demo site (screenshots in js/test-results/).
js-test: build
	@INSTANT_BIN=$(CURDIR)/$(BUILD)/instant tools/js_test.sh

fuzz-smoke: fuzz-build
	@tools/fuzz.sh $(FUZZ_BUILD) $(FUZZ_SECONDS)

# Instruction count of the hub fan-out step under callgrind against bench/micro/baseline.txt (±3 %),
# so a hot-path regression fails CI without relying on wall-clock time (bench/micro/README.md).
perf-gate: build
	@bench/micro/gate.sh $(BUILD)

# Everything CI runs: unit tests, integration tests against the real binary (release and ASan+UBSan),
# the Django app's suite, the JS client with headless Chromium, the fan-out instruction-count gate,
# and a short pass of every fuzzer.
test: unit-test integration-test python-test js-test perf-gate asan-test fuzz-smoke
	@echo "make test: all suites passed"

fuzz: fuzz-build
	@tools/fuzz.sh $(FUZZ_BUILD) $${FUZZ_SECONDS:-7200} $${FUZZ_RUNS:-10000000}

# The demo site (examples/) and the server: http://localhost:8000 (site), ws://localhost:8427.
demo: build
	@INSTANT_BIN=$(CURDIR)/$(BUILD)/instant tools/demo.sh

bench: build
	@bench/run.sh $(BUILD)

# Soak (issue 8, not in CI): 10k connections with churn and publishing for SOAK_SECONDS (600), RSS and
# fds sampled every second, growth after the warm-up and log errors reported (bench/soak.sh).
soak: build
	@bench/soak.sh $(BUILD) $${SOAK_SECONDS:-600}

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(FUZZ_BUILD)
