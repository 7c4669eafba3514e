# Convenience front for the CMake build. `make demo` and `make check` are all a
# newcomer needs; both install missing Debian packages first (scripts/bootstrap).

BUILD      ?= build
ASAN_BUILD ?= build-asan
GENERATOR  := $(shell command -v ninja >/dev/null 2>&1 && echo "-G Ninja")
JOBS       ?= $(shell nproc 2>/dev/null || echo 2)

.PHONY: all bootstrap build build-asan check check-fast demo bench clean checksrc

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

clean:
	rm -rf $(BUILD) $(ASAN_BUILD)
