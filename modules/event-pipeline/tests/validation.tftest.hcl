# Each input's validation refuses a bad value at plan time, before any
# resource is planned. Plan-only runs: nothing is made.

variables {
  name       = "modtest-validation"
  source_dir = "tests/app"
}

run "name_too_long_or_with_spaces" {
  command = plan
  variables {
    name = "has spaces"
  }
  expect_failures = [var.name]
}

run "empty_source_dir" {
  command = plan
  variables {
    source_dir = ""
  }
  expect_failures = [var.source_dir]
}

run "bucket_name_with_capitals" {
  command = plan
  variables {
    bucket_name = "Not-A-Bucket"
  }
  expect_failures = [var.bucket_name]
}

run "handler_without_a_module" {
  command = plan
  variables {
    handler = "handler"
  }
  expect_failures = [var.handler]
}

run "unknown_architecture" {
  command = plan
  variables {
    architecture = "sparc"
  }
  expect_failures = [var.architecture]
}

run "memory_below_lambda_minimum" {
  command = plan
  variables {
    memory_size = 64
  }
  expect_failures = [var.memory_size]
}

run "timeout_over_fifteen_minutes" {
  command = plan
  variables {
    timeout = 901
  }
  expect_failures = [var.timeout]
}

run "events_not_s3" {
  command = plan
  variables {
    events = ["ObjectCreated:*"]
  }
  expect_failures = [var.events]
}

run "failure_queue_arn_not_sqs" {
  command = plan
  variables {
    failure_queue_arn = "arn:aws:sns:eu-west-1:123456789012:topic"
  }
  expect_failures = [var.failure_queue_arn]
}

run "three_retries" {
  command = plan
  variables {
    maximum_retry_attempts = 3
  }
  expect_failures = [var.maximum_retry_attempts]
}

run "event_age_under_a_minute" {
  command = plan
  variables {
    maximum_event_age = 59
  }
  expect_failures = [var.maximum_event_age]
}

run "retention_cloudwatch_does_not_offer" {
  command = plan
  variables {
    log_retention_in_days = 8
  }
  expect_failures = [var.log_retention_in_days]
}

run "unknown_log_format" {
  command = plan
  variables {
    log_format = "XML"
  }
  expect_failures = [var.log_format]
}

run "unknown_log_level" {
  command = plan
  variables {
    log_format            = "JSON"
    application_log_level = "VERBOSE"
  }
  expect_failures = [var.application_log_level]
}

run "negative_concurrency" {
  command = plan
  variables {
    reserved_concurrency = -1
  }
  expect_failures = [var.reserved_concurrency]
}

run "tmp_over_ten_gigabytes" {
  command = plan
  variables {
    ephemeral_storage = 10241
  }
  expect_failures = [var.ephemeral_storage]
}

run "malformed_layer" {
  command = plan
  variables {
    layers = ["my-layer:1"]
  }
  expect_failures = [var.layers]
}

run "unknown_stream_setting" {
  command = plan
  variables {
    stream = { shards = 2 }
  }
  expect_failures = [var.stream]
}

run "unknown_delivery" {
  command = plan
  variables {
    delivery = "kafka"
  }
  expect_failures = [var.delivery]
}

run "unknown_queue_setting" {
  command = plan
  variables {
    delivery = "queue"
    queue    = { batch = 10 }
  }
  expect_failures = [var.queue]
}

run "package_type_other_than_zip_or_image" {
  command = plan
  variables {
    package_type = "docker"
  }
  expect_failures = [var.package_type]
}

run "image_with_a_key_the_block_does_not_have" {
  command = plan
  variables {
    package_type = "image"
    image        = { dockerfile = "Dockerfile" }
  }
  expect_failures = [var.image]
}

run "alarm_email_not_an_address" {
  command = plan

  variables {
    alarm_emails = ["oncall"]
  }

  expect_failures = [var.alarm_emails]
}

run "alarm_topic_arn_not_sns" {
  command = plan

  variables {
    alarm_topic_arn = "arn:aws:sqs:us-east-1:123456789012:q"
  }

  expect_failures = [var.alarm_topic_arn]
}
