output "bucket_name" {
  description = "Upload JSON files under data/ in this bucket."
  value       = module.orders.bucket_name
}

output "function_name" {
  description = "The function processing each file."
  value       = module.orders.function_name
}

output "policy_json" {
  description = "Everything the function may do."
  value       = module.orders.policy_json
}

output "failure_queue_url" {
  description = "Files the function failed to process end up here, after Lambda's retries."
  value       = module.orders.failure_queue_url
}

output "log_group_name" {
  description = "The function's logs, kept 30 days."
  value       = module.orders.log_group_name
}
