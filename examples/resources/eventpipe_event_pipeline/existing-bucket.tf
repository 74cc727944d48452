# A pipeline on a bucket it does not own: it adds one notification
# configuration to the bucket (eventpipe-clicks-ingest-0) and removes it on
# destroy. The bucket, its settings, its objects and every other
# notification on it stay as they are. The clicks already in the bucket are
# sent to the function once, when the pipeline is created.
resource "eventpipe_event_pipeline" "clicks" {
  name          = "clicks-ingest"
  bucket_name   = "acme-landing-zone"
  create_bucket = false
  backfill      = true

  function {
    source_dir = "${path.module}/app"
    handler    = "app.handler"
    runtime    = "python3.13"
  }

  trigger {
    filter_prefix = "clicks/"
    filter_suffix = ".ndjson"
  }
}
