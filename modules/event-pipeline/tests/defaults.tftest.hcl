# The module's defaults, read from the plan: a data pipeline that loses
# nothing (a failure queue, 30 days of logs) and triggers on data/*.json.
#
# Runs with `terraform test` (Terraform >= 1.6). The provider is configured
# from the environment (AWS_ENDPOINT_URL, AWS_REGION, credentials): the
# end-to-end suite points it at an emulator (tests/tests/module_tests.rs).

variables {
  name       = "modtest-defaults"
  source_dir = "tests/app"
}

run "defaults" {
  command = plan

  assert {
    condition     = eventpipe_event_pipeline.this.function.handler == "app.handler"
    error_message = "The default handler is app.handler."
  }

  assert {
    condition     = eventpipe_event_pipeline.this.function.runtime == "python3.13"
    error_message = "The default runtime is a current Python."
  }

  assert {
    condition     = eventpipe_event_pipeline.this.function.memory_size == 512 && eventpipe_event_pipeline.this.function.timeout == 60
    error_message = "The defaults are 512 MB and 60 s."
  }

  assert {
    condition     = eventpipe_event_pipeline.this.function.architecture == "x86_64" && eventpipe_event_pipeline.this.function.ephemeral_storage == 512
    error_message = "The defaults are x86_64 with 512 MB of /tmp."
  }

  assert {
    condition     = eventpipe_event_pipeline.this.function.reserved_concurrency == null && eventpipe_event_pipeline.this.function.layers == null
    error_message = "No reserved concurrency and no layers by default."
  }

  assert {
    condition     = length(eventpipe_event_pipeline.this.trigger) == 1
    error_message = "One trigger by default."
  }

  assert {
    condition = (
      eventpipe_event_pipeline.this.trigger[0].events == tolist(["s3:ObjectCreated:*"]) &&
      eventpipe_event_pipeline.this.trigger[0].filter_prefix == "data/" &&
      eventpipe_event_pipeline.this.trigger[0].filter_suffix == ".json"
    )
    error_message = "The default trigger is s3:ObjectCreated:* on data/*.json."
  }

  assert {
    condition     = eventpipe_event_pipeline.this.on_failure != null && eventpipe_event_pipeline.this.on_failure.queue_arn == null
    error_message = "Failed events go to a queue the pipeline makes."
  }

  assert {
    condition     = eventpipe_event_pipeline.this.on_failure.maximum_retry_attempts == 2 && eventpipe_event_pipeline.this.on_failure.maximum_event_age == 21600
    error_message = "Lambda's own retry defaults: 2 retries, 6 hours."
  }

  assert {
    condition     = eventpipe_event_pipeline.this.logs.retention_in_days == 30 && eventpipe_event_pipeline.this.logs.format == "Text"
    error_message = "30 days of Text logs by default."
  }

  assert {
    condition     = eventpipe_event_pipeline.this.logs.keep_on_destroy == false
    error_message = "The log group goes with the pipeline by default."
  }

  assert {
    condition = (
      eventpipe_event_pipeline.this.create_bucket == true &&
      eventpipe_event_pipeline.this.require_tls == true &&
      eventpipe_event_pipeline.this.force_destroy == false &&
      eventpipe_event_pipeline.this.backfill == false
    )
    error_message = "Safe bucket defaults: made and owned, TLS only, never emptied, no backfill."
  }

  assert {
    condition     = eventpipe_event_pipeline.this.delivery == "direct" && eventpipe_event_pipeline.this.stream == null && eventpipe_event_pipeline.this.queue == null
    error_message = "S3 invokes the function directly; no stream, no queue."
  }

  assert {
    condition     = eventpipe_event_pipeline.this.function.environment == null || length(eventpipe_event_pipeline.this.function.environment) == 0
    error_message = "No environment without output_prefix or a stream."
  }
}

run "output_prefix_reaches_the_function" {
  command = plan

  variables {
    output_prefix = "processed/"
  }

  assert {
    condition     = eventpipe_event_pipeline.this.function.environment["OUTPUT_PREFIX"] == "processed/"
    error_message = "The function learns output_prefix as OUTPUT_PREFIX."
  }
}

run "failure_queue_can_be_turned_off" {
  command = plan

  variables {
    failure_queue_enabled = false
  }

  assert {
    condition     = eventpipe_event_pipeline.this.on_failure == null
    error_message = "failure_queue_enabled = false leaves out the on_failure block."
  }
}

run "no_alarms_without_a_topic_or_emails" {
  command = plan

  assert {
    condition     = eventpipe_event_pipeline.this.alarms == null
    error_message = "No alarms without alarm_topic_arn or alarm_emails."
  }
}

run "alarm_emails_turn_the_alarms_on_with_the_defaults" {
  command = plan

  variables {
    alarm_emails = ["oncall@example.com"]
  }

  assert {
    condition = (
      eventpipe_event_pipeline.this.alarms.emails == tolist(["oncall@example.com"]) &&
      eventpipe_event_pipeline.this.alarms.topic_arn == null &&
      eventpipe_event_pipeline.this.alarms.error_rate_percent == 5 &&
      eventpipe_event_pipeline.this.alarms.failed_events &&
      eventpipe_event_pipeline.this.alarms.throttles &&
      eventpipe_event_pipeline.this.alarms.queue_age_seconds == 300 &&
      eventpipe_event_pipeline.this.alarms.iterator_age_seconds == 300
    )
    error_message = "alarm_emails turns on the alarms with the defaults (error rate 5%)."
  }

  assert {
    condition     = keys(eventpipe_event_pipeline.this.alarm_arns) == tolist(["error-rate", "failed-events", "throttles"])
    error_message = "The failure queue's, the error rate's and the throttles' alarms fit the default pipeline."
  }
}

run "alarm_topic_arn_turns_the_alarms_on" {
  command = plan

  variables {
    alarm_topic_arn = "arn:aws:sns:us-east-1:123456789012:oncall"
  }

  assert {
    condition     = eventpipe_event_pipeline.this.alarms.topic_arn == "arn:aws:sns:us-east-1:123456789012:oncall" && eventpipe_event_pipeline.this.alarms.emails == null
    error_message = "alarm_topic_arn is the alarms' topic."
  }

  assert {
    condition     = eventpipe_event_pipeline.this.alarm_topic_arn == "arn:aws:sns:us-east-1:123456789012:oncall"
    error_message = "The output alarm_topic_arn is the given topic."
  }
}
