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

    reserved_concurrency = var.reserved_concurrency
    ephemeral_storage    = var.ephemeral_storage
    layers               = length(var.layers) > 0 ? var.layers : null
  }

  # Nothing lost by default: failed events go to a queue, logs are kept.
  dynamic "on_failure" {
    for_each = var.failure_queue_enabled ? [1] : []
    content {
      queue_arn              = var.failure_queue_arn
      maximum_retry_attempts = var.maximum_retry_attempts
      maximum_event_age      = var.maximum_event_age
    }
  }

  logs {
    retention_in_days     = var.log_retention_in_days
    format                = var.log_format
    application_log_level = var.application_log_level
    system_log_level      = var.system_log_level
    keep_on_destroy       = var.keep_logs_on_destroy
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
