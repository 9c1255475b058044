# The two commands a fresh machine needs: `make run` and `make test`. Both install what is
# missing first, so they may be run any number of times.
BUILD_DIR ?= build
AICONFORM := $(BUILD_DIR)/aiconform
SOURCES := $(shell git ls-files '*.cc' '*.h' 2>/dev/null)

.PHONY: all deps kube-binaries configure build test unit integration format format-check run bench clean

all: build

deps:
	@scripts/install-deps.sh

# Kubernetes v1.34.2 and etcd, then containerd and CoreDNS, built from their Go modules into
# ~/.cache/aiconform (skipped when already there).
kube-binaries: deps
	@scripts/build-kube.sh
	@scripts/build-node.sh

$(BUILD_DIR)/build.ninja: CMakeLists.txt
	@cmake -S . -B $(BUILD_DIR) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null

configure: deps
	@cmake -S . -B $(BUILD_DIR) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null

build: configure
	@ninja -C $(BUILD_DIR)

format:
	@clang-format -i $(SOURCES)

format-check: deps
	@scripts/check-format.sh $(SOURCES)

# Every test: formatting, unit, integration and end-to-end (which start real clusters).
test: format-check build kube-binaries
	@cd $(BUILD_DIR) && ctest --output-on-failure --timeout 900 -j1

unit: build
	@cd $(BUILD_DIR) && ctest --output-on-failure -L unit

run: build kube-binaries
	@$(AICONFORM) up
	@$(AICONFORM) status

bench: build kube-binaries
	@scripts/bench.sh

clean:
	@rm -rf $(BUILD_DIR)
