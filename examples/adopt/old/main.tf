# The "before": the orders pipeline as it was wired by hand with the AWS
# provider, one resource per part. It works, but the role can read the
# whole bucket and write logs anywhere, S3 may invoke the function on
# behalf of any account, and the notification resource owns every
# notification on the bucket. ../README.md takes it over with eventpipe.
#
# The function's package is built by hand, beside this file:
#   python3 -m zipfile -c function.zip ../app/app.py

provider "aws" {
  region = var.region
}

resource "aws_s3_bucket" "orders" {
  bucket = var.bucket_name

  tags = {
    team = "orders"
  }
}

resource "aws_iam_role" "exec" {
  name = "orders-csv-exec"

  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { Service = "lambda.amazonaws.com" }
      Action    = "sts:AssumeRole"
    }]
  })
}

resource "aws_iam_role_policy_attachment" "logs" {
  role       = aws_iam_role.exec.name
  policy_arn = "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"
}

resource "aws_iam_role_policy" "read" {
  name = "read-orders-bucket"
  role = aws_iam_role.exec.id

  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect   = "Allow"
      Action   = "s3:GetObject"
      Resource = "${aws_s3_bucket.orders.arn}/*"
    }]
  })
}

resource "aws_lambda_function" "orders" {
  function_name    = "orders-csv"
  role             = aws_iam_role.exec.arn
  handler          = "app.handler"
  runtime          = "python3.12"
  memory_size      = 256
  timeout          = 30
  filename         = "${path.module}/function.zip"
  source_code_hash = filebase64sha256("${path.module}/function.zip")

  tags = {
    team = "orders"
  }
}

resource "aws_lambda_permission" "s3" {
  statement_id  = "AllowS3Invoke"
  action        = "lambda:InvokeFunction"
  function_name = aws_lambda_function.orders.function_name
  principal     = "s3.amazonaws.com"
  source_arn    = aws_s3_bucket.orders.arn
}

resource "aws_s3_bucket_notification" "orders" {
  bucket = aws_s3_bucket.orders.id

  lambda_function {
    id                  = "orders-csv"
    lambda_function_arn = aws_lambda_function.orders.arn
    events              = ["s3:ObjectCreated:*"]
    filter_prefix       = "incoming/"
    filter_suffix       = ".csv"
  }

  depends_on = [aws_lambda_permission.s3]
}
