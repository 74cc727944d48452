# Two teams' pipelines on one bucket that neither of them owns: the data
# platform team made it (see README.md) and keeps managing it. Each pipeline
# adds only its own notification configurations, under its own prefix, and
# removes them on destroy; the bucket, its settings, its objects and every
# other notification on it stay as they are. The bucket is encrypted with the
# organisation's KMS key (SSE-KMS): each plan finds the key on the bucket and
# grants each function that key, for its own prefixes only.

provider "eventpipe" {
  region = var.region

  default_tags = {
    example = "existing-bucket"
  }
}

# Orders: validates each new order and writes a result under
# orders/processed/. The orders already waiting in the bucket are processed
# too (backfill), once, when the pipeline is created.
module "orders" {
  source = "../../modules/event-pipeline"

  name          = "orders-ingest"
  source_dir    = "${path.module}/orders"
  create_bucket = false
  bucket_name   = var.bucket_name
  filter_prefix = "orders/incoming/"
  filter_suffix = ".json"
  output_prefix = "orders/processed/"
  backfill      = true

  tags = {
    team = "orders"
  }
}

# Clicks: counts the events in each new batch. Its prefix is disjoint from
# the orders team's, so the two never fire for the same object.
module "clicks" {
  source = "../../modules/event-pipeline"

  name          = "clicks-ingest"
  source_dir    = "${path.module}/clicks"
  create_bucket = false
  bucket_name   = var.bucket_name
  filter_prefix = "clicks/raw/"
  filter_suffix = ".ndjson"
  timeout       = 30

  tags = {
    team = "web"
  }
}
