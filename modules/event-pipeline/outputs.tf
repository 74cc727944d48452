output "bucket_name" {
  description = "Name of the pipeline's bucket."
  value       = eventpipe_event_pipeline.this.bucket_name
}

output "bucket_arn" {
  description = "ARN of the pipeline's bucket."
  value       = eventpipe_event_pipeline.this.bucket_arn
}

output "function_name" {
  description = "Name of the Lambda function."
  value       = eventpipe_event_pipeline.this.function_name
}

output "function_arn" {
  description = "ARN of the Lambda function."
  value       = eventpipe_event_pipeline.this.function_arn
}

output "role_name" {
  description = "Name of the function's execution role."
  value       = eventpipe_event_pipeline.this.role_name
}

output "role_arn" {
  description = "ARN of the function's execution role."
  value       = eventpipe_event_pipeline.this.role_arn
}

output "policy_json" {
  description = "The exact inline IAM policy of the role."
  value       = eventpipe_event_pipeline.this.policy_json
}

output "source_code_hash" {
  description = "Hash of the packaged source, as planned."
  value       = eventpipe_event_pipeline.this.source_code_hash
}

output "notification_ids" {
  description = "Ids of the bucket notification configurations the pipeline owns, one per trigger (the main trigger first)."
  value       = eventpipe_event_pipeline.this.notification_ids
}

output "backfilled_objects" {
  description = "How many existing objects backfill has sent to the function so far."
  value       = eventpipe_event_pipeline.this.backfilled_objects
}

output "failure_queue_arn" {
  description = "ARN of the SQS queue the function's failed events go to; null with `failure_queue_enabled = false`."
  value       = eventpipe_event_pipeline.this.failure_queue_arn
}

output "failure_queue_url" {
  description = "URL of the failure queue the pipeline made (read or redrive failed events from it); null without one."
  value       = eventpipe_event_pipeline.this.failure_queue_url
}

output "log_group_name" {
  description = "The function's CloudWatch Logs group."
  value       = eventpipe_event_pipeline.this.log_group_name
}

output "stream_arn" {
  description = "ARN of the Kinesis stream the function reads (null without `stream`)."
  value       = eventpipe_event_pipeline.this.stream_arn
}

output "stream_name" {
  description = "Name of that stream (null without `stream`)."
  value       = eventpipe_event_pipeline.this.stream_name
}

output "event_queue_arn" {
  description = "ARN of the queue S3 notifies with `delivery = \"queue\"` (null otherwise)."
  value       = eventpipe_event_pipeline.this.event_queue_arn
}

output "event_queue_url" {
  description = "URL of that queue (null otherwise)."
  value       = eventpipe_event_pipeline.this.event_queue_url
}

output "image_uri" {
  description = "With package_type = \"image\": the image the function runs, `<registry>/<repository>@sha256:<digest>`; null for a zip."
  value       = eventpipe_event_pipeline.this.image_uri
}

output "image_repository_url" {
  description = "With package_type = \"image\": the URL of the ECR repository the image is pushed to; null for a zip."
  value       = eventpipe_event_pipeline.this.image_repository_url
}

output "alarm_arns" {
  description = "The ARN of each CloudWatch alarm, by kind (`failed-events`, `error-rate`, `throttles`, `queue-age`, `iterator-age`); null without alarms."
  value       = eventpipe_event_pipeline.this.alarm_arns
}

output "alarm_topic_arn" {
  description = "The SNS topic the alarms notify: `alarm_topic_arn`, or the topic `<name>-alarms` made for `alarm_emails`; null without alarms."
  value       = eventpipe_event_pipeline.this.alarm_topic_arn
}
