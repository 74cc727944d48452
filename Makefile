# eventpipe — the front door. `make demo` and `make test` are all a newcomer needs.

SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

# One version, the provider crate's.
VERSION      := $(shell sed -n 's/^version = "\(.*\)"$$/\1/p' provider/Cargo.toml | head -n 1)
OS_ARCH      := $(shell uname -s | tr A-Z a-z)_$(subst x86_64,amd64,$(subst aarch64,arm64,$(shell uname -m)))
PLUGIN_DIR   ?= $(HOME)/.terraform.d/plugins
INSTALL_DIR  := $(PLUGIN_DIR)/registry.terraform.io/eventpipe/eventpipe/$(VERSION)/$(OS_ARCH)
# Tests and the demo share the debug build; `make install` ships release.
PROFILE      ?= release
CARGO_FLAGS  := $(if $(filter release,$(PROFILE)),--release,)
BUILD_DIR    := target/$(if $(filter release,$(PROFILE)),release,debug)
BIN          := $(BUILD_DIR)/terraform-provider-eventpipe
# The `eventpipe` command line (package, plan-summary) goes on PATH.
CLI_BIN      ?= $(dir $(BIN))eventpipe
BIN_DIR      ?= $(HOME)/.local/bin
# Where `make release` writes its archives.
DIST         ?= dist

-include mk/tools.mk

.PHONY: help version build release release-build mirror install install-bin test unit e2e fmt lint docs bench demo tools clean

help:
	@echo "make demo     build, start the AWS emulator, apply examples/basic, show data flowing, clean up"
	@echo "make test     the whole suite: unit, property and end-to-end tests (installs its tools)"
	@echo "make install  build (release); the provider into Terraform's local plugin mirror, eventpipe into BIN_DIR (~/.local/bin; says how to put it on PATH)"
	@echo "make release  reproducible release archives, sums and manifest in dist/ (GPG_FINGERPRINT signs),"
	@echo "              for this machine's platform only ($(OS_ARCH)): examples/ci/release.yml builds all four"
	@echo "make mirror DIR=path  add this release to a static provider network mirror at path"
	@echo "              (builds the provider and eventpipe first, like make release; NO_BUILD=1 packs what is built)"
	@echo "make version  print the version ($(VERSION))"
	@echo "make build | fmt | lint | docs | bench | tools | clean"

version:
	@echo "$(VERSION)"

build:
	cargo build -p terraform-provider-eventpipe

# The archives of $(PROFILE) binaries for this machine's platform only
# (OS_ARCH); a multi-platform release is one `make release` per platform,
# assembled by `xtask assemble` (examples/ci/release.yml does it).
# (`make release PROFILE=debug` packs the
# debug build the test suite uses; NO_BUILD=1 packs what is built, building
# nothing). The packer, xtask, is always built with --release: a debug zlib
# takes ~30 s to deflate the debug binary.
release: $(if $(NO_BUILD),,release-build)
	cargo run -q --release -p xtask -- release --version "$(VERSION)" --os-arch "$(OS_ARCH)" \
	  --bin-dir "$(BUILD_DIR)" --out "$(DIST)"

release-build:
	cargo build $(CARGO_FLAGS) -p terraform-provider-eventpipe --bin terraform-provider-eventpipe --bin eventpipe

# A static network mirror: serve DIR over HTTPS and give Terraform
# provider_installation { network_mirror { url = "https://HOST/" } }.
ifneq ($(filter mirror,$(MAKECMDGOALS)),)
ifeq ($(DIR),)
$(error usage: make mirror DIR=path/to/mirror)
endif
endif
mirror: release
	cargo run -q --release -p xtask -- mirror --version "$(VERSION)" --dist "$(DIST)" --out "$(DIR)"

install:
	cargo build $(CARGO_FLAGS) -p terraform-provider-eventpipe --bin terraform-provider-eventpipe --bin eventpipe
	@$(MAKE) --no-print-directory install-bin

# Copies an already built binary into the mirror (BIN and PLUGIN_DIR may be overridden).
install-bin:
	mkdir -p "$(INSTALL_DIR)"
	install -m 0755 "$(BIN)" "$(INSTALL_DIR)/terraform-provider-eventpipe_v$(VERSION)"
	@echo "installed $(INSTALL_DIR)/terraform-provider-eventpipe_v$(VERSION)"
	@echo "a plain 'terraform init' now finds registry.terraform.io/eventpipe/eventpipe $(VERSION)"
	@if [ -f "$(CLI_BIN)" ]; then \
		mkdir -p "$(BIN_DIR)" && install -m 0755 "$(CLI_BIN)" "$(BIN_DIR)/eventpipe" && \
		echo "installed $(BIN_DIR)/eventpipe" && \
		sh "$(CURDIR)/scripts/path-hint.sh" "$(BIN_DIR)" eventpipe; \
	else echo "no $(CLI_BIN): build it (cargo build -p terraform-provider-eventpipe --bin eventpipe) to install the eventpipe command"; fi

# One profile (debug) for every test binary and the provider the e2e tests
# run, so nothing is built twice.
test: tools
	cargo build -p terraform-provider-eventpipe
	cargo test --workspace --no-fail-fast

unit:
	cargo test --workspace --lib --bins

e2e: tools
	cargo build -p terraform-provider-eventpipe
	cargo test -p tests

fmt:
	cargo fmt
	terraform fmt -recursive modules examples

lint:
	cargo fmt --check
	cargo clippy --all-targets -- -D warnings
	terraform fmt -check -recursive modules examples

docs:
	cargo run -q -p terraform-provider-eventpipe --bin eventpipe-docs -- docs

bench: tools
	cargo build --release -p terraform-provider-eventpipe -p bench
	cargo run --release -p bench

demo: tools
	cargo build -p terraform-provider-eventpipe
	scripts/demo.sh

clean:
	cargo clean
	rm -rf .tools
