variable "region" {
  description = "AWS region of the shared bucket; the pipelines' functions go there too (S3 notifies only functions in the bucket's region)."
  type        = string
  default     = "us-east-1"
}

variable "bucket_name" {
  description = "The shared bucket, created beforehand by the team that owns it (see README.md)."
  type        = string
}
