output "function_name" {
  description = "The adopted function."
  value       = eventpipe_event_pipeline.orders.function_name
}

output "notification_ids" {
  description = "The pipeline's notification configurations, which replace the hand-wired one."
  value       = eventpipe_event_pipeline.orders.notification_ids
}

output "policy_json" {
  description = "The least-privilege policy the role gets beside its old ones."
  value       = eventpipe_event_pipeline.orders.policy_json
}
