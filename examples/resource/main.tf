# The resource used directly, with every argument set.

provider "eventpipe" {
  region      = var.region
  max_retries = 5

  default_tags = {
    managed_by = "terraform"
  }
}

resource "eventpipe_event_pipeline" "clicks" {
  name          = "clicks-enrich"
  bucket_name   = var.bucket_name
  force_destroy = true
  require_tls   = var.require_tls
  output_prefix = "enriched/"

  tags = {
    team = "web"
  }

  function {
    source_dir   = "${path.module}/app"
    handler      = "app.handler"
    runtime      = "python3.13"
    architecture = "arm64"
    memory_size  = 256
    timeout      = 30
    description  = "Enriches raw click batches"

    environment = {
      LOG_LEVEL = "info"
    }
  }

  trigger {
    events        = ["s3:ObjectCreated:*"]
    filter_prefix = "raw/"
    filter_suffix = ".json"
  }

  trigger {
    events        = ["s3:ObjectCreated:Put"]
    filter_prefix = "raw/"
    filter_suffix = ".csv"
  }
}
