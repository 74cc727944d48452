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
