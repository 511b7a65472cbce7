# A small service stack with the mistakes keyless exists to catch, next to the patterns it wants.

provider "aws" {
  region     = "eu-west-1"
  access_key = var.deploy_access_key_id # CKV_KEYLESS_5 (and CKV_KEYLESS_3: the default is a literal key ID)
  secret_key = var.deploy_secret_access_key
}

provider "aws" {
  alias   = "audit"
  region  = "eu-west-1"
  profile = "audit-sso" # good: an IAM Identity Center profile
}

# --- people and machine users -------------------------------------------------------------------

resource "aws_iam_user" "alice" {
  name = "alice"
}

resource "aws_iam_user_login_profile" "alice" {
  user = aws_iam_user.alice.name
}

resource "aws_iam_access_key" "alice" { # CKV_KEYLESS_1 and CKV_KEYLESS_2: a person with a key
  user = aws_iam_user.alice.name
}

resource "aws_iam_user" "ci" {
  name = "ci-deployer"
}

resource "aws_iam_access_key" "ci" { # CKV_KEYLESS_1 and CKV_KEYLESS_9 (its secret is an output)
  user = aws_iam_user.ci.name
}

resource "aws_iam_access_key" "retired" { # passes: inactive
  user   = aws_iam_user.ci.name
  status = "Inactive"
}

output "ci_secret" {
  value     = aws_iam_access_key.ci.secret
  sensitive = true
}

# --- compute ---------------------------------------------------------------------------------------

resource "aws_instance" "legacy_worker" { # CKV_KEYLESS_6, CKV_KEYLESS_8 (user data writes credentials)
  ami           = "ami-0abcdef1234567890"
  instance_type = "t3.micro"
  user_data     = <<-EOT
    #!/bin/bash
    mkdir -p /root/.aws
    aws configure set aws_secret_access_key ${local.legacy_secret}
  EOT
}

resource "aws_launch_template" "web" { # good: the profile comes with the template
  name_prefix   = "web-"
  image_id      = "ami-0abcdef1234567890"
  instance_type = "t3.small"
  iam_instance_profile {
    name = aws_iam_instance_profile.web.name
  }
}

resource "aws_instance" "web" { # good: profile inherited from the launch template
  launch_template {
    id      = aws_launch_template.web.id
    version = "$Latest"
  }
}

resource "aws_launch_template" "batch" { # CKV_KEYLESS_7
  name_prefix   = "batch-"
  image_id      = "ami-0abcdef1234567890"
  instance_type = "c6i.large"
}

resource "aws_iam_role" "web" {
  name               = "web"
  assume_role_policy = jsonencode({ Version = "2012-10-17", Statement = [] })
}

resource "aws_iam_instance_profile" "web" {
  name = "web"
  role = aws_iam_role.web.name
}

resource "aws_lambda_function" "reports" { # CKV_KEYLESS_8 and CKV_KEYLESS_3
  function_name    = "reports"
  role             = aws_iam_role.web.arn
  handler          = "app.handler"
  runtime          = "python3.12"
  filename         = "reports.zip"
  source_code_hash = "n1GZQ7tpOj8Vd1sLDUvu0dZz5ZcNl6Z1c6mTgYQK3eA=" # a base64 hash: not a secret
  environment {
    variables = {
      S3_ACCESS_KEY = "AKIAIOSFODNN7EXAMPLE"
      BUCKET        = "reports-eu-west-1"
    }
  }
}

resource "aws_lambda_function" "ingest" { # good: reads its secret at run time
  function_name = "ingest"
  role          = aws_iam_role.web.arn
  handler       = "app.handler"
  runtime       = "python3.12"
  filename      = "ingest.zip"
  environment {
    variables = {
      API_SECRET_ARN = aws_secretsmanager_secret.api.arn
      GIT_SHA        = "3f786850e387550fdab836ed7e6dc881de23001b"
    }
  }
}

resource "aws_secretsmanager_secret" "api" {
  name = "ingest/api"
}
