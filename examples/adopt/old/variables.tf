variable "region" {
  description = "AWS region of the pipeline."
  type        = string
  default     = "us-east-1"
}

variable "bucket_name" {
  description = "Name of the bucket the orders land in."
  type        = string
}
