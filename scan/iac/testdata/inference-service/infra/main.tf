terraform {
  required_providers {
    aws = { source = "hashicorp/aws", version = "~> 5.0" }
  }
}

variable "region" {
  default = "us-east-1"
}

variable "db_password" {
  type      = string
  sensitive = true
  default   = "Sup3rS3cretPassw0rd!"
}

resource "aws_s3_bucket" "model_artifacts" {
  bucket = "acme-llm-model-artifacts"
}

resource "aws_s3_bucket_server_side_encryption_configuration" "model_artifacts" {
  bucket = aws_s3_bucket.model_artifacts.id
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm     = "aws:kms"
      kms_master_key_id = aws_kms_key.models.arn
    }
  }
}

resource "aws_s3_bucket_policy" "model_artifacts" {
  bucket = aws_s3_bucket.model_artifacts.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = "*"
      Action    = ["s3:GetObject"]
      Resource  = "${aws_s3_bucket.model_artifacts.arn}/*"
    }]
  })
}

resource "aws_s3_bucket" "training_data" {
  bucket = "acme-training-data"
}

resource "aws_s3_bucket_public_access_block" "training_data" {
  bucket                  = aws_s3_bucket.training_data.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_kms_key" "models" {
  description = "model artifacts"
}

resource "aws_sagemaker_model" "llm" {
  name               = "llm"
  execution_role_arn = aws_iam_role.sagemaker.arn
  primary_container {
    image          = "123456789012.dkr.ecr.us-east-1.amazonaws.com/llm:1.0"
    model_data_url = "s3://acme-llm-model-artifacts/model.tar.gz"
  }
}

resource "aws_sagemaker_endpoint_configuration" "llm" {
  name = "llm"
  production_variants {
    variant_name           = "primary"
    model_name             = aws_sagemaker_model.llm.name
    initial_instance_count = 1
    instance_type          = "ml.g5.2xlarge"
  }
}

resource "aws_iam_role" "sagemaker" {
  name               = "sagemaker"
  assume_role_policy = data.aws_iam_policy_document.assume.json
}

data "aws_iam_policy_document" "assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["sagemaker.amazonaws.com"]
    }
  }
}

resource "aws_iam_role_policy" "sagemaker" {
  role = aws_iam_role.sagemaker.id
  policy = jsonencode({
    Version   = "2012-10-17"
    Statement = [{ Effect = "Allow", Action = "*", Resource = "*" }]
  })
}
