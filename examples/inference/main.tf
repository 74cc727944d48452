# Inference on each file that lands: a handler with numpy, pandas and pyarrow
# (about 280 MB installed, over the 250 MB a zip may hold), deployed as a
# Lambda container image. The image is built without Docker: the AWS Lambda
# base image for the runtime, resolved to a digest at plan time, with the
# installed requirements and then app/ appended as two deterministic layers,
# pushed to the ECR repository the pipeline makes. A code edit pushes one
# small layer. `eventpipe package --image --oci-layout out/ --source-dir app
# --runtime python3.13` writes the same image locally, with the digest apply
# deploys.

provider "eventpipe" {
  region = var.region
  default_tags = {
    example = "inference"
  }
}

module "scoring" {
  source = "../../modules/event-pipeline"

  name          = var.name
  source_dir    = "${path.module}/app"
  runtime       = "python3.13"
  memory_size   = 3008
  timeout       = 120
  output_prefix = "scores/"
  force_destroy = true
  require_tls   = var.require_tls

  package_type = "image"
  image = {
    base_image  = var.base_image
    keep_images = 5
  }

  filter_prefix = "incoming/"
}
