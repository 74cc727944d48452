variable "region" {
  description = "AWS region to create the pipeline in."
  type        = string
  default     = "us-east-1"
}

variable "bucket_name" {
  description = "Name of the bucket; null lets the provider derive one from the pipeline name."
  type        = string
  default     = null
}

variable "require_tls" {
  description = "Deny non-TLS requests to the bucket (keep true on AWS; false for the moto emulator)."
  type        = bool
  default     = true
}
