variable "region" {
  description = "AWS region to create the pipelines in."
  type        = string
  default     = "us-east-1"
}

variable "name" {
  description = "Name of the pipeline that summarizes uploads; its stream has the same name."
  type        = string
  default     = "uploads"
}

variable "require_tls" {
  description = "Deny non-TLS requests to the buckets. Keep true on AWS; the moto emulator treats the policy as a blanket deny, so set false there to upload files."
  type        = bool
  default     = true
}
