locals {
  # The function learns where to write its results from the environment.
  with_output = var.output_prefix == null ? var.environment : merge(var.environment, { OUTPUT_PREFIX = var.output_prefix })

  # And the name of the stream it reads: its own (`<name>`), or the one `arn` names.
  stream_arn  = var.stream == null ? null : try(var.stream.arn, null)
  stream_name = var.stream == null ? null : (local.stream_arn == null ? var.name : element(split("/", local.stream_arn), 1))
  environment = local.stream_name == null ? local.with_output : merge(local.with_output, { STREAM_NAME = local.stream_name })
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
  delivery      = var.delivery

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
    requirements_file    = var.requirements_file
    slim                 = var.slim
    bundle               = var.bundle
    exclude              = var.exclude
    package_bucket       = var.package_bucket
    package_type         = var.package_type

    dynamic "image" {
      for_each = var.image == null ? [] : [var.image]
      content {
        base_image      = try(image.value.base_image, null)
        repository_name = try(image.value.repository_name, null)
        keep_images     = try(image.value.keep_images, null)
        scan_on_push    = try(image.value.scan_on_push, null)
      }
    }
  }

  dynamic "bucket_encryption" {
    for_each = var.bucket_kms_key_arn == null ? [] : [var.bucket_kms_key_arn]
    content {
      kms_key_arn = bucket_encryption.value
    }
  }

  # Nothing lost by default: failed events go to a queue, logs are kept.
  dynamic "on_failure" {
    for_each = var.failure_queue_enabled ? [1] : []
    content {
      queue_arn              = var.failure_queue_arn
      maximum_retry_attempts = var.maximum_retry_attempts
      maximum_event_age      = var.maximum_event_age
      force_delete           = var.failure_queue_force_delete
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

  dynamic "stream" {
    for_each = var.stream == null ? [] : [var.stream]
    content {
      arn                            = try(stream.value.arn, null)
      shard_count                    = try(stream.value.shard_count, null)
      retention_period               = try(stream.value.retention_period, null)
      starting_position              = try(stream.value.starting_position, null)
      batch_size                     = try(stream.value.batch_size, null)
      maximum_batching_window        = try(stream.value.maximum_batching_window, null)
      parallelization_factor         = try(stream.value.parallelization_factor, null)
      bisect_batch_on_function_error = try(stream.value.bisect_batch_on_function_error, null)
      maximum_retry_attempts         = try(stream.value.maximum_retry_attempts, null)
      maximum_record_age             = try(stream.value.maximum_record_age, null)
      report_batch_item_failures     = try(stream.value.report_batch_item_failures, null)
      allow_put_records              = try(stream.value.allow_put_records, null)
    }
  }

  dynamic "queue" {
    for_each = var.queue == null ? [] : [var.queue]
    content {
      visibility_timeout         = try(queue.value.visibility_timeout, null)
      max_receive_count          = try(queue.value.max_receive_count, null)
      batch_size                 = try(queue.value.batch_size, null)
      maximum_batching_window    = try(queue.value.maximum_batching_window, null)
      maximum_concurrency        = try(queue.value.maximum_concurrency, null)
      report_batch_item_failures = try(queue.value.report_batch_item_failures, null)
    }
  }

  # Alarms, when there is somewhere to send them.
  dynamic "alarms" {
    for_each = var.alarm_topic_arn != null || length(var.alarm_emails) > 0 ? [1] : []
    content {
      topic_arn          = var.alarm_topic_arn
      emails             = length(var.alarm_emails) > 0 ? var.alarm_emails : null
      error_rate_percent = 5
    }
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
