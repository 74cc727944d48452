# A Python project managed with uv: pyproject.toml and uv.lock in service/,
# the handler in the project's own package under service/src/mypkg. Apply
# installs the locked dependencies (uv export --frozen, then uv pip install
# for Lambda's platform) and the project itself (built by its build backend,
# hatchling), so `mypkg.app.handler` imports as it does on your machine.
# Needs uv on PATH where Terraform runs. See what ships with
# `eventpipe package --source-dir service --runtime python3.13 -o pkg.zip`.

provider "eventpipe" {
  region = var.region
  default_tags = {
    example = "uv-project"
  }
}

module "service" {
  source = "../../modules/event-pipeline"

  name          = var.name
  source_dir    = "${path.module}/service"
  handler       = "mypkg.app.handler"
  runtime       = "python3.13"
  force_destroy = true
  require_tls   = var.require_tls

  filter_prefix = "incoming/"
}
