# A handler that imports a library: requirements.txt in app/ is installed
# into the package by apply (pip, for Lambda's platform), and
# source_code_hash covers it, so a new pin shows in the plan. See what ships
# with `eventpipe package --source-dir app --runtime python3.12 -o pkg.zip`.

provider "eventpipe" {
  region = var.region
  default_tags = {
    example = "with-dependencies"
  }
}

module "events" {
  source = "../../modules/event-pipeline"

  name          = var.name
  source_dir    = "${path.module}/app"
  output_prefix = "normalized/"
  force_destroy = true
  require_tls   = var.require_tls

  filter_prefix = "events/"
  filter_suffix = ".json"
}
