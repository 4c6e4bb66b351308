# SPDX-License-Identifier: MIT
# Front door for patd. CMake does the building; this file only gives the
# commands in README.md one name each.

BUILD      ?= build
ASAN_BUILD ?= build-asan
JOBS       ?= $(shell nproc 2>/dev/null || echo 2)
PATD_DB    ?= ./var/patd.db
CFORMAT    ?= clang-format
SOURCES     = $(shell git ls-files -co --exclude-standard '*.c' '*.h' 2>/dev/null || \
                find include lib src tests bench docs -name '*.[ch]')

.PHONY: all deps build run run-pg test unit asan format format-check clean

all: build

deps:
	@./scripts/deps.sh

build: deps
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	@cmake --build $(BUILD) -j $(JOBS)

run: build
	@PATD_DB=$(PATD_DB) ./scripts/run.sh $(BUILD)

run-pg: build
	@./scripts/run-pg.sh $(BUILD)

test: build format-check
	@ctest --test-dir $(BUILD) --output-on-failure -j $(JOBS)

asan: deps
	@cmake -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=Debug -DPAT_SANITIZE=ON >/dev/null
	@cmake --build $(ASAN_BUILD) -j $(JOBS)
	@ctest --test-dir $(ASAN_BUILD) --output-on-failure -j $(JOBS)

format:
	@$(CFORMAT) -i $(SOURCES)

format-check:
	@$(CFORMAT) --dry-run --Werror $(SOURCES) && echo "format: ok"

clean:
	rm -rf $(BUILD) $(ASAN_BUILD)
