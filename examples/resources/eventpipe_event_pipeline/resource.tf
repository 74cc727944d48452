# New JSON files under data/ and CSV files under csv/ are each handed to the
# function. The two triggers cannot match the same key, so they don't overlap.
resource "eventpipe_event_pipeline" "example" {
  name = "orders-ingest"

  function {
    source_dir  = "${path.module}/app"
    handler     = "app.handler"
    runtime     = "python3.13"
    timeout     = 60
    memory_size = 512
  }

  trigger {
    filter_prefix = "data/"
    filter_suffix = ".json"
  }

  trigger {
    filter_prefix = "csv/"
    filter_suffix = ".csv"
  }

  tags = {
    team = "orders"
  }
}
