# Every pipeline of the provider's account and region: those this provider
# made and the S3 → Lambda wirings made by hand that `adopt:` takes over.
list "eventpipe_event_pipeline" "all" {
  provider = eventpipe
}

# Only the wirings made by hand on one bucket, with the resource each would
# import as (for `terraform query -generate-config-out=adopt.tf`).
list "eventpipe_event_pipeline" "legacy" {
  provider         = eventpipe
  include_resource = true

  config {
    bucket  = "legacy-uploads"
    include = "adoptable"
  }
}

# The first 20 pipelines whose function names start with "orders-".
list "eventpipe_event_pipeline" "orders" {
  provider = eventpipe
  limit    = 20

  config {
    name_prefix = "orders-"
    include     = "owned"
  }
}
