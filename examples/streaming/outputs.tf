output "bucket_name" {
  description = "Upload JSON files under data/ in this bucket."
  value       = module.uploads.bucket_name
}

output "stream_name" {
  description = "The stream the summaries go to (read it with `aws kinesis get-records`)."
  value       = module.uploads.stream_name
}

output "stream_arn" {
  description = "ARN of that stream."
  value       = module.uploads.stream_arn
}

output "tally_function_name" {
  description = "The second consumer of the stream; its log shows the totals."
  value       = module.tally.function_name
}

output "tally_bucket_name" {
  description = "Replay summaries by putting a .jsonl file under replay/ here."
  value       = module.tally.bucket_name
}
