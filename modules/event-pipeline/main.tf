locals {
  # The function learns where to write its results from the environment.
  environment = var.output_prefix == null ? var.environment : merge(var.environment, { OUTPUT_PREFIX = var.output_prefix })
}

resource "eventpipe_event_pipeline" "this" {
  name          = var.name
  bucket_name   = var.bucket_name
  create_bucket = var.create_bucket
  function_name = var.function_name
  role_name     = var.role_name
  force_destroy = var.force_destroy
  backfill      = var.backfill
  require_tls   = var.require_tls
  output_prefix = var.output_prefix
  tags          = var.tags

  function {
    source_dir   = var.source_dir
    handler      = var.handler
    runtime      = var.runtime
    architecture = var.architecture
    memory_size  = var.memory_size
    timeout      = var.timeout
    description  = var.description
    environment  = local.environment
  }

  trigger {
    events        = var.events
    filter_prefix = var.filter_prefix
    filter_suffix = var.filter_suffix
  }

  dynamic "trigger" {
    for_each = var.extra_triggers
    content {
      events        = trigger.value.events
      filter_prefix = trigger.value.filter_prefix
      filter_suffix = trigger.value.filter_suffix
    }
  }
}
