# Thin wrapper (DESIGN §11). Everything real lives in scripts/.
#   make run    the whole pipeline on embedded defaults (dev broker, SQLite)
#   make test   set-up, sanitizer build, format check, unit + integration
#   make bench  benchmarks against their baselines (bench/README.md)
#   make image  the container image velopipe:VERSION (deploy/docker/)
.PHONY: all setup build run test unit integration bench image format clean

all: build

setup:
	scripts/setup

build: setup
	scripts/build release

run: setup
	scripts/run

test: setup
	scripts/test

unit: setup
	scripts/test unit

integration: setup
	scripts/test integration

bench: setup
	scripts/bench

image:
	scripts/image

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	rm -rf build build-test run
