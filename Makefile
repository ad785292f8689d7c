# Thin wrapper: every target installs what it needs, configures and builds.
BUILD ?= build
JOBS ?= 2
CMAKE_FLAGS ?=

.PHONY: deps configure build test demo sim clean

deps:
	@scripts/install-deps.sh

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

clean:
	rm -rf $(BUILD)
