# The orders pipeline of old/, described as one eventpipe pipeline. Every
# value here matches what exists, so that after
#
#   terraform import eventpipe_event_pipeline.orders adopt:orders-csv
#
# the plan changes only what taking over has to change (see README.md).

provider "eventpipe" {
  region = var.region
}

resource "eventpipe_event_pipeline" "orders" {
  # The import names the pipeline after the function it starts from. Here
  # the function keeps the pipeline's name; to call the pipeline something
  # else, set function_name = "orders-csv" too and the new name is taken in
  # place (without it, a different name would replace the function).
  name = "orders-csv"

  # The role the function already runs with, not the default <name>-role.
  role_name = "orders-csv-exec"

  # The bucket becomes the pipeline's: tags, public access block, default
  # encryption and, with require_tls, the TLS-only policy. Its objects stay.
  # Set create_bucket = false to leave the bucket to someone else.
  bucket_name   = var.bucket_name
  create_bucket = true
  require_tls   = var.require_tls

  function {
    source_dir  = "${path.module}/app"
    handler     = "app.handler"
    runtime     = "python3.12"
    memory_size = 256
    timeout     = 30
  }

  trigger {
    events        = ["s3:ObjectCreated:*"]
    filter_prefix = "incoming/"
    filter_suffix = ".csv"
  }

  tags = {
    team = "orders"
  }
}
