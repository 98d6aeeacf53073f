# tapstack: the two commands are `make run` and `make test` (see README.md).
#   make run    install missing Debian packages, build, start `tapstack serve` (SQLite, demo network)
#   make test   install missing Debian packages, build, run every test through CTest
#   make bench  build and run the benchmarks
# CI=true turns compiler warnings into errors.

BUILD_DIR ?= build
BUILD_TYPE ?= RelWithDebInfo
# CI builds at -O1 without debug info (a quarter faster to compile than -O2; CI measures
# correctness, `make bench` measures speed), and the tests' own code at -O0; it leaves out the
# bench/ programs (no test runs them; `make bench` builds them, and the
# scenarios they share with `tapstack bench` are built and tested through src/benchkit).
CMAKE_EXTRA ?= $(if $(filter true 1 yes,$(CI)),-DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -DNDEBUG" -DTAPSTACK_TESTS_UNOPTIMISED=ON -DTAPSTACK_BUILD_BENCH=OFF,)
DATA_DIR ?= data
JOBS ?= $(shell nproc)
WERROR := $(if $(filter true 1 yes,$(CI)),ON,OFF)

.PHONY: run test bench build bootstrap format clean

bootstrap:
	@scripts/bootstrap

build: bootstrap
	@cmake -S . -B $(BUILD_DIR) -G Ninja -DCMAKE_BUILD_TYPE=$(BUILD_TYPE) -DTAPSTACK_WERROR=$(WERROR) $(CMAKE_EXTRA) >/dev/null
	@cmake --build $(BUILD_DIR) -j $(JOBS)

run: build
	$(BUILD_DIR)/src/cli/tapstack serve --data-dir $(DATA_DIR)

test: build
	ctest --test-dir $(BUILD_DIR) --output-on-failure -j $(JOBS)

bench: build
	bench/run_all.sh $(BUILD_DIR)

format:
	@git ls-files '*.cc' '*.h' | xargs clang-format -i

clean:
	rm -rf $(BUILD_DIR)
