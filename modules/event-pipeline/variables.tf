variable "name" {
  description = "Name of the pipeline: names the Lambda function and its role (`<name>-role`) unless `function_name` and `role_name` are set, the bucket unless `bucket_name` is set, and the bucket's notification configurations (`eventpipe-<name>-<index>`). Must be unique per account and region. Changing it updates the pipeline in place: the parts named after it (function, role, queues, stream) are replaced by new ones under the new name, and the rest is retagged."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9_-]{1,59}$", var.name))
    error_message = "The name must be 1 to 59 letters, digits, '-' or '_' (the role name '<name>-role' must fit IAM's 64 characters)."
  }
}

variable "source_dir" {
  description = "Local directory with the function's code, e.g. \"$${path.module}/app\". Packaged deterministically; edits show in the plan as a new source_code_hash."
  type        = string

  validation {
    condition     = length(var.source_dir) > 0
    error_message = "The source_dir must name a directory."
  }
}

variable "bucket_name" {
  description = "Name of the bucket to create, or with `create_bucket = false` of the existing bucket to use (then required). Null derives a unique, valid name from `name`, the account and the region. Changing it replaces the pipeline."
  type        = string
  default     = null

  validation {
    condition     = var.bucket_name == null || can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.bucket_name))
    error_message = "The bucket_name must be 3 to 63 lowercase letters, digits, '-' or '.', starting and ending with a letter or digit."
  }
}

variable "create_bucket" {
  description = "Create the bucket and manage it (public access block, encryption, TLS-only policy, tags). False uses the existing bucket `bucket_name`, which must be in the provider's region: the pipeline only adds its own notification configurations and removes them on destroy, and never changes or deletes the bucket or its objects. Switching updates in place."
  type        = bool
  default     = true
}

variable "bucket_kms_key_arn" {
  description = "With `create_bucket = true`: a customer-managed KMS key (its ARN, or an alias ARN) for the bucket's default encryption, SSE-KMS with S3 Bucket Keys; the role gets `kms:Decrypt` on it for the objects it reads (and `kms:GenerateDataKey` for `output_prefix`). Null keeps SSE-S3. An existing bucket's key (`create_bucket = false`) is read by the plan and granted without this. Changing it updates in place."
  type        = string
  default     = null
}

variable "function_name" {
  description = "Name of the Lambda function. Null uses `name`. Set it to keep the name of a function taken over with `terraform import ... adopt:<function-name>`. Changing it replaces the pipeline."
  type        = string
  default     = null

  validation {
    condition     = var.function_name == null || can(regex("^[A-Za-z0-9_-]{1,64}$", var.function_name))
    error_message = "The function_name must be 1 to 64 letters, digits, '-' or '_' (Lambda's rule)."
  }
}

variable "role_name" {
  description = "Name of the function's IAM execution role. Null uses `<name>-role`. Set it to keep the name of a role taken over with `terraform import ... adopt:<function-name>`. Changing it replaces the pipeline."
  type        = string
  default     = null

  validation {
    condition     = var.role_name == null || can(regex("^[A-Za-z0-9+=,.@_-]{1,64}$", var.role_name))
    error_message = "The role_name must be 1 to 64 letters, digits or '+=,.@_-' (IAM's rule)."
  }
}

variable "handler" {
  description = "Function entry point as `<module>.<function>`."
  type        = string
  default     = "app.handler"

  validation {
    condition     = can(regex("^[^.]+(\\.[^.]+)+$", var.handler))
    error_message = "The handler must look like '<module>.<function>', e.g. 'app.handler'."
  }
}

variable "runtime" {
  description = "Lambda runtime. Deprecated runtimes are refused by the provider at plan time."
  type        = string
  default     = "python3.13"
}

variable "architecture" {
  description = "Instruction set of the function: `x86_64` or `arm64`."
  type        = string
  default     = "x86_64"

  validation {
    condition     = contains(["x86_64", "arm64"], var.architecture)
    error_message = "The architecture must be 'x86_64' or 'arm64'."
  }
}

variable "memory_size" {
  description = "Memory for the function, in MB (128 to 10240)."
  type        = number
  default     = 512

  validation {
    condition     = var.memory_size >= 128 && var.memory_size <= 10240 && floor(var.memory_size) == var.memory_size
    error_message = "The memory_size must be a whole number of MB from 128 to 10240."
  }
}

variable "timeout" {
  description = "Maximum run time of one invocation, in seconds (1 to 900)."
  type        = number
  default     = 60

  validation {
    condition     = var.timeout >= 1 && var.timeout <= 900 && floor(var.timeout) == var.timeout
    error_message = "The timeout must be a whole number of seconds from 1 to 900."
  }
}

variable "description" {
  description = "Description of the function."
  type        = string
  default     = null
}

# Not `sensitive = true`: the provider's schema already keeps
# function.environment out of plans and logs, and Terraform 1.0.x crashes
# ("value is marked, so must be unmarked first") rendering any update of a
# pipeline whose function block holds a value from a sensitive variable.
variable "environment" {
  description = "Environment variables for the function. Sensitive: values never appear in plans."
  type        = map(string)
  default     = {}
}

variable "events" {
  description = "S3 event types of the main trigger."
  type        = list(string)
  default     = ["s3:ObjectCreated:*"]

  validation {
    condition     = length(var.events) > 0 && alltrue([for e in var.events : can(regex("^s3:", e))])
    error_message = "The events must be one or more S3 event types such as 's3:ObjectCreated:*'."
  }
}

variable "filter_prefix" {
  description = "Key prefix of the main trigger: only objects under it invoke the function. Null for none."
  type        = string
  default     = "data/"
}

variable "filter_suffix" {
  description = "Key suffix of the main trigger, e.g. `.json`. Null for none."
  type        = string
  default     = ".json"
}

variable "extra_triggers" {
  description = "Further triggers besides the main one. Each needs `events`, `filter_prefix` and `filter_suffix` (null where unused); triggers must not overlap."
  type = list(object({
    events        = list(string)
    filter_prefix = string
    filter_suffix = string
  }))
  default = []
}

variable "output_prefix" {
  description = "Key prefix where the function may write results into the same bucket (grants s3:PutObject there only). No trigger may match it; the provider refuses a loop at plan time. Passed to the function as the OUTPUT_PREFIX environment variable."
  type        = string
  default     = null
}

variable "force_destroy" {
  description = "Delete every object in the bucket when the pipeline is destroyed. When false, destroying a non-empty bucket fails and deletes nothing. Only for a bucket the pipeline creates: with `create_bucket = false` it must stay false."
  type        = bool
  default     = false
}

variable "backfill" {
  description = "Also process the objects already in the bucket: when the pipeline is created or gains a trigger, the function is invoked once per existing object the new trigger matches, with the event S3 sends for a new object (ObjectCreated:Put). At least once; an interrupted backfill resumes on the next apply."
  type        = bool
  default     = false
}

variable "require_tls" {
  description = "Deny non-TLS requests with a bucket policy. Keep true on AWS; emulators that cannot evaluate the policy's condition need false."
  type        = bool
  default     = true
}

variable "tags" {
  description = "Tags for every part of the pipeline, merged over the provider's default_tags."
  type        = map(string)
  default     = {}
}

variable "failure_queue_enabled" {
  description = "Keep the events the function fails to process: after Lambda's retries they go to an SQS queue instead of being dropped. On by default; the queue is `<name>-failed` (encrypted, 14 days' retention), or `failure_queue_arn`. Destroy refuses while the pipeline's queue holds events, unless `failure_queue_force_delete` (or `force_destroy`) is true."
  type        = bool
  default     = true
}

variable "failure_queue_arn" {
  description = "An existing SQS queue for the failed events, instead of the one the pipeline makes. Null makes `<name>-failed`."
  type        = string
  default     = null

  validation {
    condition     = var.failure_queue_arn == null ? true : can(regex("^arn:aws[a-z-]*:sqs:[a-z0-9-]+:[0-9]{12}:[A-Za-z0-9_.-]+$", var.failure_queue_arn))
    error_message = "The failure_queue_arn must be an SQS queue ARN such as 'arn:aws:sqs:us-east-1:123456789012:failed', or null to let the pipeline make its queue."
  }
}

variable "failure_queue_force_delete" {
  description = "Let a destroy, a replacement, or an apply that turns the queue off delete the pipeline's failure queue `<name>-failed` while it holds failed events (the resource's `on_failure.force_delete`). Unlike `force_destroy`, which is about the bucket's objects, it works with `create_bucket = false`. A queue given as `failure_queue_arn` is never deleted."
  type        = bool
  default     = false
}

variable "maximum_retry_attempts" {
  description = "How many times Lambda retries an event the function failed to process (0 to 2) before it goes to the failure queue."
  type        = number
  default     = 2

  validation {
    condition     = var.maximum_retry_attempts >= 0 && var.maximum_retry_attempts <= 2 && floor(var.maximum_retry_attempts) == var.maximum_retry_attempts
    error_message = "The maximum_retry_attempts must be 0, 1 or 2 (Lambda retries an asynchronous event at most twice)."
  }
}

variable "maximum_event_age" {
  description = "How long, in seconds (60 to 21600), Lambda keeps trying an event before it goes to the failure queue."
  type        = number
  default     = 21600

  validation {
    condition     = var.maximum_event_age >= 60 && var.maximum_event_age <= 21600 && floor(var.maximum_event_age) == var.maximum_event_age
    error_message = "The maximum_event_age must be a whole number of seconds from 60 (one minute) to 21600 (six hours)."
  }
}

variable "log_retention_in_days" {
  description = "How many days the function's log group `/aws/lambda/<name>` keeps its logs: one of the periods CloudWatch Logs accepts."
  type        = number
  default     = 30

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_in_days)
    error_message = "The log_retention_in_days must be one of the periods CloudWatch Logs accepts: 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288 or 3653."
  }
}

variable "log_format" {
  description = "How the function writes its logs: `Text` or `JSON`. Log levels need `JSON`."
  type        = string
  default     = "Text"

  validation {
    condition     = contains(["Text", "JSON"], var.log_format)
    error_message = "The log_format must be 'Text' or 'JSON' (with that capitalisation)."
  }
}

variable "application_log_level" {
  description = "With `log_format = \"JSON\"`: the lowest level of the function's own log lines that are kept (TRACE, DEBUG, INFO, WARN, ERROR or FATAL). Null keeps every line. The provider refuses a level with `Text` logs at plan time."
  type        = string
  default     = null

  validation {
    condition     = var.application_log_level == null ? true : contains(["TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL"], var.application_log_level)
    error_message = "The application_log_level must be TRACE, DEBUG, INFO, WARN, ERROR or FATAL (and needs log_format = \"JSON\"), or null."
  }
}

variable "system_log_level" {
  description = "With `log_format = \"JSON\"`: the lowest level of Lambda's own log lines that are kept (DEBUG, INFO or WARN). Null keeps every line. The provider refuses a level with `Text` logs at plan time."
  type        = string
  default     = null

  validation {
    condition     = var.system_log_level == null ? true : contains(["DEBUG", "INFO", "WARN"], var.system_log_level)
    error_message = "The system_log_level must be DEBUG, INFO or WARN (and needs log_format = \"JSON\"), or null."
  }
}

variable "keep_logs_on_destroy" {
  description = "Leave the log group and its logs when the pipeline is destroyed."
  type        = bool
  default     = false
}

variable "reserved_concurrency" {
  description = "Concurrent executions reserved for the function, which also caps it (a burst of uploads cannot flood what it calls). 0 pauses the function; null leaves it unreserved."
  type        = number
  default     = null

  validation {
    condition     = var.reserved_concurrency == null ? true : var.reserved_concurrency >= 0 && floor(var.reserved_concurrency) == var.reserved_concurrency
    error_message = "The reserved_concurrency must be a whole number, 0 or more (0 pauses the function), or null for none."
  }
}

variable "ephemeral_storage" {
  description = "Size of the function's /tmp, in MB (512 to 10240)."
  type        = number
  default     = 512

  validation {
    condition     = var.ephemeral_storage >= 512 && var.ephemeral_storage <= 10240 && floor(var.ephemeral_storage) == var.ephemeral_storage
    error_message = "The ephemeral_storage must be a whole number of MB from 512 to 10240."
  }
}

variable "layers" {
  description = "Up to five Lambda layer version ARNs for the function, in order."
  type        = list(string)
  default     = []

  validation {
    condition     = length(var.layers) <= 5 && alltrue([for l in var.layers : can(regex("^arn:aws[a-z-]*:lambda:[a-z0-9-]+:[0-9]{12}:layer:[A-Za-z0-9_-]+:[0-9]+$", l))])
    error_message = "The layers must be at most 5 layer version ARNs such as 'arn:aws:lambda:us-east-1:123456789012:layer:numpy:3' (with the version number at the end)."
  }
}

variable "requirements_file" {
  description = "Python dependencies installed into the package, relative to source_dir or absolute: a requirements file (pip), or a lock: uv.lock, poetry.lock, pylock.toml (uv), or pyproject.toml (the lock beside it). null: the first of uv.lock + pyproject.toml, poetry.lock + pyproject.toml, pylock.toml, requirements.txt in source_dir. Installed for Lambda's platform; each installer's own configuration is honoured."
  type        = string
  default     = null
}

variable "slim" {
  description = "Package the installed dependencies without tests, __pycache__, C headers, type stubs and Cython sources, and with their shared objects stripped of debug symbols. The function's own source_dir is never slimmed."
  type        = bool
  default     = false
}

variable "bundle" {
  description = "Bundle a Node.js handler (`.ts`, `.mts` or `.js`, named by `handler`) with esbuild into one file and its source map; the package holds only those. The AWS SDK v3 stays external. esbuild (the project's node_modules/.bin/esbuild, else on PATH) does not type-check: run `tsc --noEmit` in your tests."
  type        = bool
  default     = false
}

variable "exclude" {
  description = "Files of source_dir left out of the package, as gitignore-style patterns relative to it (`notebooks/`, `*.parquet`, `!keep.parquet`, `/top-only`, `**/fixtures/`), applied before hashing and packaging. Every `.venv/`, and the source's `node_modules/` when the provider installs the dependencies, are always left out. A pattern that leaves out the handler's file is refused at plan. Null leaves out nothing more."
  type        = list(string)
  default     = null
}

variable "package_type" {
  description = "How the function is deployed: `zip` (at most 250 MB unzipped) or `image`, a container image of up to 10 GB built without Docker and pushed to ECR (for the data and ML stack). Changing it replaces the function alone; the bucket, its objects, the queues and the stream stay."
  type        = string
  default     = "zip"

  validation {
    condition     = contains(["zip", "image"], var.package_type)
    error_message = "The package_type must be \"zip\" or \"image\"."
  }
}

variable "image" {
  description = "With package_type = \"image\": the image settings, as in the resource's `image` block; null for the defaults. Optional keys: `base_image` (default: the AWS Lambda base image of the runtime; `<ref>@sha256:<digest>` pins it), `repository_name` (an existing ECR repository; default: the pipeline makes `<name>`), `keep_images` (10) and `scan_on_push` (true)."
  type        = any
  default     = null

  validation {
    condition = var.image == null || try(alltrue([
      for k in keys(var.image) : contains(["base_image", "repository_name", "keep_images", "scan_on_push"], k)
    ]), false)
    error_message = "The image must be null or an object whose keys are settings of the resource's image block: base_image, repository_name, keep_images, scan_on_push."
  }
}

variable "package_bucket" {
  description = "Bucket that packages over 50 MB zipped are staged in (null: the pipeline's own bucket). Required with create_bucket = false when the package has dependencies or a source over 50 MB."
  type        = string
  default     = null
}

# ---------------------------------------------------------------------------
# Streams and queue delivery. (`any` with optional keys: object types with
# optional attributes need Terraform 1.3, and the module supports 1.0.)
# ---------------------------------------------------------------------------

variable "stream" {
  description = "A Kinesis data stream the function reads in batches; null for none. `{}` makes the stream `<name>` (on demand, encrypted with the AWS-managed key, tagged); `{ arn = \"...\" }` reads an existing stream, which the pipeline never makes or deletes. Optional keys, as in the resource's `stream` block: `arn`, `shard_count`, `retention_period` (hours, 24), `starting_position` (`LATEST`), `batch_size` (100), `maximum_batching_window`, `parallelization_factor`, `bisect_batch_on_function_error`, `maximum_retry_attempts`, `maximum_record_age`, `report_batch_item_failures`, `allow_put_records` (false). The function gets the stream's name as the STREAM_NAME environment variable."
  type        = any
  default     = null

  validation {
    condition = var.stream == null || try(alltrue([
      for k in keys(var.stream) : contains([
        "arn", "shard_count", "retention_period", "starting_position", "batch_size",
        "maximum_batching_window", "parallelization_factor", "bisect_batch_on_function_error",
        "maximum_retry_attempts", "maximum_record_age", "report_batch_item_failures",
        "allow_put_records",
      ], k)
    ]), false)
    error_message = "The stream must be null or an object whose keys are settings of the resource's stream block: arn, shard_count, retention_period, starting_position, batch_size, maximum_batching_window, parallelization_factor, bisect_batch_on_function_error, maximum_retry_attempts, maximum_record_age, report_batch_item_failures, allow_put_records."
  }
}

variable "delivery" {
  description = "How S3 events reach the function: `direct` (S3 invokes it per object) or `queue` (S3 notifies the queue `<name>-events`, drained in batches as `queue` says). Switching updates in place."
  type        = string
  default     = "direct"

  validation {
    condition     = contains(["direct", "queue"], var.delivery)
    error_message = "The delivery must be \"direct\" or \"queue\"."
  }
}

variable "queue" {
  description = "With `delivery = \"queue\"`: how the event queue is drained; null for the defaults. Optional keys, as in the resource's `queue` block: `visibility_timeout` (6 × `timeout`, never less than it), `max_receive_count` (5, with on_failure), `batch_size` (10; above 10 needs `maximum_batching_window`), `maximum_batching_window`, `maximum_concurrency` (2 to 1000), `report_batch_item_failures`."
  type        = any
  default     = null

  validation {
    condition = var.queue == null || try(alltrue([
      for k in keys(var.queue) : contains([
        "visibility_timeout", "max_receive_count", "batch_size", "maximum_batching_window",
        "maximum_concurrency", "report_batch_item_failures",
      ], k)
    ]), false)
    error_message = "The queue must be null or an object whose keys are settings of the resource's queue block: visibility_timeout, max_receive_count, batch_size, maximum_batching_window, maximum_concurrency, report_batch_item_failures."
  }
}

variable "alarm_topic_arn" {
  description = "An SNS topic of yours, in the provider's region, for the pipeline's CloudWatch alarms (the resource's `alarms.topic_arn`). Setting it or `alarm_emails` turns the alarms on with these defaults: failed events waiting (with the failure queue), an error rate over 5% in 5 minutes, throttles, the event queue's oldest message over 300 s (with `delivery = \"queue\"`) and the stream's iterator age over 300 s (with `stream`). Null (the default) and no `alarm_emails`: no alarms."
  type        = string
  default     = null

  validation {
    condition     = var.alarm_topic_arn == null || can(regex("^arn:aws[a-z-]*:sns:[a-z0-9-]+:[0-9]{12}:[A-Za-z0-9_.-]{1,256}$", var.alarm_topic_arn))
    error_message = "The alarm_topic_arn must be an SNS topic ARN such as arn:aws:sns:us-east-1:123456789012:oncall."
  }
}

variable "alarm_emails" {
  description = "Email addresses for the pipeline's alarms: the pipeline makes the SNS topic `<name>-alarms` with one email subscription each (each address confirms by the link SNS mails it; the resource's `alarms.emails`). Not with `alarm_topic_arn`. Empty (the default) and no `alarm_topic_arn`: no alarms."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for e in var.alarm_emails : can(regex("^[^@[:space:]]+@[^@[:space:]]+\\.[^@[:space:]]+$", e))])
    error_message = "Each of alarm_emails must be an email address such as oncall@example.com."
  }
}
