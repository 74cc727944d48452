# One apply: the module's outputs name what was made. `terraform test`
# destroys it all at the end.

variables {
  name          = "modtest-outputs"
  source_dir    = "tests/app"
  output_prefix = "processed/"
  # The emulator treats the TLS-only policy's conditional Deny as
  # unconditional; on AWS keep the default (true).
  require_tls = false
  tags = {
    team = "data"
  }
}

run "apply" {
  assert {
    condition     = output.function_name == "modtest-outputs" && output.role_name == "modtest-outputs-role"
    error_message = "The function is named after the pipeline, its role <name>-role."
  }

  assert {
    condition     = output.bucket_arn == "arn:aws:s3:::${output.bucket_name}"
    error_message = "bucket_arn is the ARN of bucket_name."
  }

  assert {
    condition     = endswith(output.function_arn, ":function:modtest-outputs") && endswith(output.role_arn, ":role/modtest-outputs-role")
    error_message = "function_arn and role_arn name the function and the role."
  }

  assert {
    condition     = output.log_group_name == "/aws/lambda/modtest-outputs"
    error_message = "The log group is the function's."
  }

  assert {
    condition     = endswith(output.failure_queue_arn, ":modtest-outputs-failed") && endswith(output.failure_queue_url, "/modtest-outputs-failed")
    error_message = "The failure queue <name>-failed is made and its ARN and URL are output."
  }

  assert {
    condition     = output.notification_ids == tolist(["eventpipe-modtest-outputs-0"])
    error_message = "One notification configuration, owned by the pipeline."
  }

  assert {
    condition = alltrue([
      for s in jsondecode(output.policy_json).Statement :
      !contains(flatten([s.Action]), "logs:CreateLogGroup")
    ])
    error_message = "The policy does not need logs:CreateLogGroup: the group exists before the function."
  }

  assert {
    condition     = strcontains(output.policy_json, "${output.bucket_arn}/data/") && strcontains(output.policy_json, "${output.bucket_arn}/processed/")
    error_message = "The policy reads the trigger's prefix and writes under output_prefix."
  }

  assert {
    condition     = strcontains(output.policy_json, output.failure_queue_arn)
    error_message = "The policy may send to the failure queue."
  }

  assert {
    condition     = length(output.source_code_hash) > 0 && output.backfilled_objects == 0
    error_message = "The package is hashed; nothing was backfilled."
  }

  assert {
    condition     = output.stream_arn == null && output.stream_name == null && output.event_queue_arn == null && output.event_queue_url == null
    error_message = "No stream and no event queue by default."
  }

  assert {
    condition     = eventpipe_event_pipeline.this.tags_all["team"] == "data"
    error_message = "The module's tags reach the resource."
  }
}
