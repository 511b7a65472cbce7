"""Reading Terraform text as written: top-level blocks with their lines, and comments in all three forms."""

from __future__ import annotations

from keyless.lang.terraform_text import read

TEXT = '''\
# provider "aws" {
#   access_key = "x"
# }
/* a block
   comment { */
resource "aws_s3_bucket" "a" {
  bucket = "not # a comment // nor this"
  policy = "${jsonencode({ a = "}" })}" # after an interpolation
  user_data = <<-EOT
    # a script line, not an HCL comment {
  EOT
}

variable "v"
{
  default = "x" // trailing
}
output o { value = "{" }
locals {
  nested = { a = { b = 1 } }
}
'''


def test_blocks_and_their_lines() -> None:
    parsed = read(TEXT)
    assert [(b.address, b.start, b.end) for b in parsed.blocks] == [
        ("aws_s3_bucket.a", 6, 12), ("var.v", 14, 17), ("output.o", 18, 18), ("locals", 19, 21)]


def test_comments_outside_strings_and_heredocs() -> None:
    parsed = read(TEXT)
    assert [(c.line, c.text) for c in parsed.comments] == [
        (1, '# provider "aws" {'), (2, '#   access_key = "x"'), (3, "# }"), (4, "/* a block\n   comment { */"),
        (8, "# after an interpolation"), (16, "// trailing")]


def test_block_at_a_line() -> None:
    parsed = read(TEXT)
    assert parsed.block_at(7).address == "aws_s3_bucket.a"
    assert parsed.block_at(2) is None and parsed.block_at(13) is None


def test_unbalanced_text_ends_quietly() -> None:
    assert read('resource "a" "b" {\n  x = "\n').blocks == []
    assert read("/* never closed\n").comments == []
