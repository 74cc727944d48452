# Two teams reuse the same module side by side; every name derives from the
# pipeline name, so nothing collides.

provider "eventpipe" {
  region = var.region

  default_tags = {
    cost_center = "data-platform"
  }
}

module "orders" {
  source = "../../modules/event-pipeline"

  name          = "orders-ingest"
  source_dir    = "${path.module}/orders"
  filter_prefix = "incoming/"
  filter_suffix = ".json"
  memory_size   = 1024
  force_destroy = true
  require_tls   = var.require_tls

  extra_triggers = [{
    events        = ["s3:ObjectCreated:*"]
    filter_prefix = "incoming/"
    filter_suffix = ".ndjson"
  }]

  tags = {
    team = "orders"
  }
}

module "clicks" {
  source = "../../modules/event-pipeline"

  name          = "clicks-ingest"
  source_dir    = "${path.module}/clicks"
  handler       = "index.handler"
  runtime       = "nodejs22.x"
  filter_prefix = "raw/"
  filter_suffix = ".json"
  timeout       = 30
  force_destroy = true
  require_tls   = var.require_tls

  # Clicks are plentiful: retry a failed one once, within the hour, keep two
  # weeks of JSON logs at INFO and above, and cap the function at 10 at once.
  maximum_retry_attempts = 1
  maximum_event_age      = 3600
  log_retention_in_days  = 14
  log_format             = "JSON"
  application_log_level  = "INFO"
  reserved_concurrency   = 10

  environment = {
    SAMPLE_RATE = "0.1"
  }

  tags = {
    team = "web"
  }
}
