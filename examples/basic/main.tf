# New JSON files under data/ are validated by the function, which writes a
# result for each under processed/ in the same bucket.

provider "eventpipe" {
  region = var.region
  # Credentials and endpoint come from the environment (AWS_PROFILE,
  # AWS_ACCESS_KEY_ID, AWS_ENDPOINT_URL for an emulator, ...).
  default_tags = {
    example = "basic"
  }
}

module "orders" {
  source = "../../modules/event-pipeline"

  name          = var.name
  source_dir    = "${path.module}/app"
  output_prefix = "processed/"
  force_destroy = true
  require_tls   = var.require_tls

  tags = {
    team = "orders"
  }
}
