# Convenience front for the CMake build. `make demo` and `make check` are all a
# newcomer needs; both install missing Debian packages first (scripts/bootstrap).

BUILD      ?= build
ASAN_BUILD ?= build-asan
BENCH_BUILD ?= build-bench
GENERATOR  := $(shell command -v ninja >/dev/null 2>&1 && echo "-G Ninja")
JOBS       ?= $(shell nproc 2>/dev/null || echo 2)

.PHONY: all bootstrap build build-asan build-bench check check-fast demo clean checksrc \
        bench bench-throughput bench-dispatch bench-agent bench-cpu

all: build

bootstrap:
	@scripts/bootstrap

$(BUILD)/CMakeCache.txt:
	cmake -S . -B $(BUILD) $(GENERATOR) -DCMAKE_BUILD_TYPE=RelWithDebInfo

build: bootstrap $(BUILD)/CMakeCache.txt
	cmake --build $(BUILD) -j $(JOBS)

build-asan: bootstrap
	@test -f $(ASAN_BUILD)/CMakeCache.txt || cmake -S . -B $(ASAN_BUILD) $(GENERATOR) -DCMAKE_BUILD_TYPE=Debug -DODS_SANITIZE=ON
	cmake --build $(ASAN_BUILD) -j $(JOBS)

checksrc:
	@scripts/checksrc

# Every test twice: under ASan+UBSan first, then the optimised build, whose CTest
# summary is the last thing printed.
check: checksrc build build-asan
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
	  ctest --test-dir $(ASAN_BUILD) --output-on-failure -j 2
	ctest --test-dir $(BUILD) --output-on-failure -j 2

# Quick loop for development: optimised build only.
check-fast: build
	ctest --test-dir $(BUILD) --output-on-failure -j 2

demo: build
	@scripts/demo $(BUILD)/bin

# Benchmarks: an optimised build of its own (-O2, no sanitizers), then bench/run.
# `make bench` runs them all and writes bench/RESULTS.md; bench-NAME runs one.
build-bench: bootstrap
	@test -f $(BENCH_BUILD)/CMakeCache.txt || cmake -S . -B $(BENCH_BUILD) $(GENERATOR) \
	  -DCMAKE_BUILD_TYPE=Release -DCMAKE_C_FLAGS_RELEASE="-O2 -DNDEBUG"
	cmake --build $(BENCH_BUILD) -j $(JOBS)

bench: build-bench
	bench/run --bin $(BENCH_BUILD)/bin --out bench/RESULTS.md

bench-throughput bench-dispatch bench-agent bench-cpu: build-bench
	bench/run --bin $(BENCH_BUILD)/bin $(@:bench-%=%)

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(BENCH_BUILD)
