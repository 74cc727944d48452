variable "region" {
  description = "AWS region of the pipeline being adopted."
  type        = string
  default     = "us-east-1"
}

variable "bucket_name" {
  description = "Name of the existing bucket, the one old/ made."
  type        = string
}

variable "require_tls" {
  description = "Add the TLS-only statement to the bucket's policy when the pipeline takes the bucket over. Keep true on AWS; the moto emulator treats it as a blanket deny, so set false there."
  type        = bool
  default     = true
}
