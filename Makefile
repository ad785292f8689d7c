# Thin wrapper: every target installs what it needs, configures and builds.
BUILD ?= build
JOBS ?= 2
CMAKE_FLAGS ?=

.PHONY: deps sanitize-deps configure build test demo sim clean asan-build sanitize tsan fuzz ci-sanitize

deps:
	@scripts/install-deps.sh

# clang, its sanitizer runtimes and llvm-symbolizer: only the sanitizer and
# fuzz targets need them.
sanitize-deps:
	@scripts/install-deps.sh --sanitize

configure: deps
	@cmake -S . -B $(BUILD) $(CMAKE_FLAGS) > /dev/null

build: configure
	@cmake --build $(BUILD) -j$(JOBS)

# The whole test suite: unit tests, the deterministic simulation, and the
# integration and fault tests on loopback.
test: build
	@ctest --test-dir $(BUILD) -j$(JOBS) --output-on-failure

# The main job: see README.md.
demo: build
	@scripts/demo.sh $(BUILD)

# Sanitizers and fuzzing (tests/README.md). ASAN_BUILD is built with clang,
# ASan, UBSan and libFuzzer's coverage: the same build serves `make sanitize`
# and `make fuzz`. TSAN_BUILD builds only what the TSan tests run.
ASAN_BUILD ?= build-asan
TSAN_BUILD ?= build-tsan
FUZZ_SECONDS ?= 60
# -O1 and line tables only: a third of -O2 -g's compile time, stacks still name lines.
ASAN_CMAKE = CC=clang CXX=clang++ cmake -S . -B $(ASAN_BUILD) -DCORRAL_FUZZ=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	"-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O1 -gline-tables-only" "-DCMAKE_C_FLAGS_RELWITHDEBINFO=-O1 -gline-tables-only"
TSAN_TARGETS ?= client_tests server_tests net_tests agent_fetch_tests agent_source_tests agent_sink_tests server_threads_tests \
	integration_tests corrald corralctl corral-agent

# What `make sanitize` runs: every unit test, the simulator, the fuzz targets
# and what the chosen integration tests start.
ASAN_TARGETS ?= $(patsubst tests/unit/%/,%_tests,$(filter-out tests/unit/sim/,$(wildcard tests/unit/*/))) \
	sim_unit_tests corral-sim corral_fuzz integration_tests corrald corralctl corral-agent

asan-build: sanitize-deps
	@$(ASAN_CMAKE) $(CMAKE_FLAGS) > /dev/null
	@cmake --build $(ASAN_BUILD) -j$(JOBS) --target $(ASAN_TARGETS)

# A part of the suite under ASan+UBSan (scripts/sanitize.sh says which).
sanitize: asan-build
	@scripts/sanitize.sh asan $(ASAN_BUILD)

# The multi-threaded parts under TSan.
tsan: deps
	@cmake -S . -B $(TSAN_BUILD) -DCORRAL_SANITIZE=thread -DCMAKE_BUILD_TYPE=RelWithDebInfo \
		"-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O1 -g1" $(CMAKE_FLAGS) > /dev/null
	@cmake --build $(TSAN_BUILD) -j$(JOBS) --target $(TSAN_TARGETS)
	@scripts/sanitize.sh tsan $(TSAN_BUILD)

# Every fuzz target for FUZZ_SECONDS, two at a time, from tests/fuzz/corpus.
fuzz: sanitize-deps
	@$(ASAN_CMAKE) $(CMAKE_FLAGS) > /dev/null
	@cmake --build $(ASAN_BUILD) -j$(JOBS) --target corral_fuzz
	@FUZZ_SECONDS=$(FUZZ_SECONDS) scripts/fuzz.sh $(ASAN_BUILD)

# What CI runs after `make test` (.ci/run): the fuzz regression tests and a
# short simulation under ASan+UBSan, each fuzz target CI_FUZZ_SECONDS, the
# client, net and agent tests under TSan, each step timed (scripts/ci-sanitize.sh).
ci-sanitize:
	@scripts/ci-sanitize.sh $(ASAN_BUILD) $(TSAN_BUILD)

clean:
	rm -rf $(BUILD)
