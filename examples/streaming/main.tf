# Files land in S3; the function summarizes each one and puts the summary on
# a Kinesis stream; a second pipeline reads that stream and tallies the
# summaries.

provider "eventpipe" {
  region = var.region
  # Credentials and endpoint come from the environment (AWS_PROFILE,
  # AWS_ACCESS_KEY_ID, AWS_ENDPOINT_URL for an emulator, ...).
  default_tags = {
    example = "streaming"
  }
}

# New JSON files under data/ are summarized onto the stream `uploads`, which
# this pipeline makes (on demand, encrypted, kept 48 hours). The function may
# write to the stream (allow_put_records) and, like every stream pipeline,
# also reads it: the handler never writes back what it reads.
module "uploads" {
  source = "../../modules/event-pipeline"

  name          = var.name
  source_dir    = "${path.module}/summarize"
  force_destroy = true
  require_tls   = var.require_tls

  stream = {
    allow_put_records = true
    retention_period  = 48
  }

  tags = {
    team = "ingest"
  }
}

# The second consumer: a pipeline that reads the first one's stream (it
# never makes or deletes it) from the oldest record kept, in batches of up
# to 500 or 5 seconds, and logs the totals. Its own bucket takes replays:
# a file of summaries, one JSON object a line, under replay/.
module "tally" {
  source = "../../modules/event-pipeline"

  name          = "${var.name}-tally"
  source_dir    = "${path.module}/tally"
  filter_prefix = "replay/"
  filter_suffix = ".jsonl"
  force_destroy = true
  require_tls   = var.require_tls

  stream = {
    arn                     = module.uploads.stream_arn
    starting_position       = "TRIM_HORIZON"
    batch_size              = 500
    maximum_batching_window = 5
  }

  tags = {
    team = "analytics"
  }
}
