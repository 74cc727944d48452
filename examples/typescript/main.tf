# A TypeScript handler, bundled by the provider with esbuild: each new JSON
# file under data/ is summarised (bucket, key, size). The package holds one
# file, src/index.js, and its source map; @aws-sdk/* stays external (it is in
# the Node.js runtime). esbuild does not type-check: `pnpm test` runs
# `tsc --noEmit` first.

provider "eventpipe" {
  region = var.region
  # Credentials and endpoint come from the environment (AWS_PROFILE,
  # AWS_ACCESS_KEY_ID, AWS_ENDPOINT_URL for an emulator, ...).
  default_tags = {
    example = "typescript"
  }
}

module "summaries" {
  source = "../../modules/event-pipeline"

  name          = var.name
  source_dir    = "${path.module}/app"
  runtime       = "nodejs24.x"
  handler       = "src/index.handler"
  bundle        = true
  filter_prefix = "data/"
  filter_suffix = ".json"
  force_destroy = true
  require_tls   = var.require_tls
}
