output "bucket_name" {
  description = "Upload CSV or Parquet files of feature rows under incoming/ in this bucket; scores appear under scores/."
  value       = module.scoring.bucket_name
}

output "function_name" {
  description = "The function scoring each file."
  value       = module.scoring.function_name
}

output "image_uri" {
  description = "The image the function runs, by digest."
  value       = module.scoring.image_uri
}

output "image_repository_url" {
  description = "The ECR repository the pipeline made for its images."
  value       = module.scoring.image_repository_url
}

output "policy_json" {
  description = "Everything the function may do."
  value       = module.scoring.policy_json
}
