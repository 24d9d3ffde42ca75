# The README's two commands: `make run` and `make test`. Everything else is CMake.
.PHONY: all deps build build-asan run openb test bench clean format fuzz scenarios

all: build

deps:
	@./scripts/install-deps.sh

build: deps
	@cmake --preset default >/dev/null
	@cmake --build --preset default

build-asan: deps
	@cmake --preset asan >/dev/null
	@cmake --build --preset asan

# The shared traces: beside the checkout, or beside the repository it was cloned from.
TRACES ?= $(or $(wildcard ../shared/traces),$(shell u=$$(git config --get remote.origin.url 2>/dev/null); \
	[ -d "$$u/../shared/traces" ] && cd "$$u/../shared/traces" && pwd))

# The main job: a whole local cluster (server + scheduler + 4 node agents + the
# example queues) in ./muster-data; Ctrl-C stops it, the next `make run` resumes.
run: build
	./build/default/muster up

# The openb fragmentation benchmark on the default trace (the main job before the
# live cluster existed).
openb: build
	./build/default/muster sim openb \
	  --nodes $(TRACES)/alibaba-v2023/openb_node_list_gpu_node.csv \
	  --pods $(TRACES)/alibaba-v2023/openb_pod_list_default.csv \
	  --policy random,dotprod,gpuclustering,gpupacking,bestfit,fgd,fgdx \
	  --seeds 42-51 --tune 1.3

test: build build-asan
	@ctest --preset asan

# Every scenario in tests/scenarios through the real binary (also part of `make test`).
scenarios: build
	./build/default/muster scenario run tests/scenarios/*.yaml

# Real libFuzzer binaries of the fuzz targets (needs clang and libclang-rt-14-dev);
# `make test` runs the same targets briefly with a built-in mutation driver.
fuzz:
	@command -v clang >/dev/null || { echo "make fuzz needs clang (apt-get install clang libclang-rt-14-dev)"; exit 1; }
	cmake -B build/fuzz -G Ninja -DCMAKE_C_COMPILER=clang -DMUSTER_SANITIZE=ON -DMUSTER_LIBFUZZER=ON >/dev/null
	cmake --build build/fuzz
	@echo "run e.g.: build/fuzz/tests/libfuzzer_decode -max_total_time=60 tests/fuzz/corpus/decode (also libfuzzer_quantity, libfuzzer_http, libfuzzer_objects)"

clean:
	rm -rf build

format:
	clang-format -i $$(git ls-files '*.c' '*.h')
