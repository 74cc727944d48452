# Tools for the end-to-end tests and the demo, installed into .tools/ by
# scripts/setup-tools.sh: a venv with the moto server (the AWS emulator) and a
# real Terraform 1.0.3 binary. scripts/setup-system-tools.sh adds four system
# packages with apt-get when they are missing: docker-registry (the CNCF
# distribution registry the image tests push to), skopeo (the independent
# registry client), gcc (the slim tests' C compiler) and pigz (the bench's
# baseline for image layers). Include from the top-level Makefile:
#   -include mk/tools.mk
# `make tools` is idempotent and returns at once when everything is installed.

TOOLS_DIR     ?= $(CURDIR)/.tools
TOOLS_BIN     := $(TOOLS_DIR)/bin
SETUP_TOOLS   := $(CURDIR)/scripts/setup-tools.sh
SETUP_SYSTEM  := $(CURDIR)/scripts/setup-system-tools.sh
# uv, Poetry, pnpm, Yarn 4, esbuild and TypeScript, pinned (the lock-file tests).
SETUP_PACKAGE := $(CURDIR)/scripts/setup-package-tools.sh
# The emulator: $(MOTO_SERVER) -H 127.0.0.1 -p PORT
MOTO_SERVER   := $(TOOLS_BIN)/moto_server
# The oldest Terraform we support, and the current one (the PATH terraform).
TERRAFORM_OLD := $(TOOLS_BIN)/terraform-1.0.3
TERRAFORM     ?= terraform

# The script and the test harness both honour this, so a non-default
# TOOLS_DIR reaches `cargo test` too.
export EVENTPIPE_TOOLS_DIR := $(TOOLS_DIR)

.PHONY: tools tools-clean

tools:
	@"$(SETUP_TOOLS)"
	@"$(SETUP_PACKAGE)"
	@"$(SETUP_SYSTEM)"

tools-clean:
	rm -rf "$(TOOLS_DIR)"
