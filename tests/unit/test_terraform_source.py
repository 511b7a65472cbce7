"""Judging a Terraform value as written: where checkov's rendering changed it, the source wins."""

from __future__ import annotations

from pathlib import Path

from keyless.lang.terraform import Block
from keyless.lang.terraform_source import judged, source_of


def test_a_literal_is_taken_as_written() -> None:
    assert judged(None, "echo done > /tmp/log") == "echo done > /tmp/log"  # checkov evaluated the comparison
    assert judged(True, "a == b") == "a == b"
    assert judged("x", "y") == "y"


def test_rendered_interpolations_are_kept() -> None:
    assert judged("AKIAIOSFODNN7EXAMPLE", "${var.key}") == "AKIAIOSFODNN7EXAMPLE"
    assert judged({"a": 1}, "${jsonencode({a = 1})}") == {"a": 1}


def test_a_cut_rendering_gives_way_to_the_source() -> None:
    source = '${base64encode("#!/bin/bash\\nexport X=1")}'
    assert judged("base64encode(", source) == source


def test_a_joined_heredoc_keeps_its_lines_and_its_rendered_values() -> None:
    source = "#!/bin/bash\nexport REGION=${var.region}\nexport KEY=AKIAIOSFODNN7EXAMPLE\n"
    rendered = "#!/bin/bashexport REGION=eu-west-1export KEY=AKIAIOSFODNN7EXAMPLE"
    assert judged(rendered, source) == "#!/bin/bash\nexport REGION=eu-west-1\nexport KEY=AKIAIOSFODNN7EXAMPLE\n"
    # pieces that cannot be placed: the source as written
    assert judged("something else entirely", source) == source


def test_nested_values_are_judged_one_by_one() -> None:
    rendered = {"user_data": None, "tags": {"Name": "web"}, "count": 2}
    source = {"user_data": "echo a > b", "tags": {"Name": "web"}}
    assert judged(rendered, source) == {"user_data": "echo a > b", "tags": {"Name": "web"}, "count": 2}


def test_only_blocks_with_a_rewritable_form_are_read_again(tmp_path: Path) -> None:
    tf = tmp_path / "main.tf"
    tf.write_text('resource "aws_instance" "a" {\n  ami = "x"\n}\n\n'
                  'resource "aws_instance" "b" {\n  user_data = "echo 1 > /tmp/x"\n}\n')
    assert source_of(str(tf), (1, 3), "resource", "aws_instance", "a") is None
    assert source_of(str(tf), (5, 7), "resource", "aws_instance", "b") == {
        "user_data": ["echo 1 > /tmp/x"], "__start_line__": 1, "__end_line__": 3}
    block = Block(kind="resource", type="aws_instance", name="b", address="aws_instance.b",
                  rendered={"user_data": None}, file=str(tf), lines=(5, 7))
    assert block.config == {"user_data": "echo 1 > /tmp/x"}


def test_unreadable_source_keeps_the_rendering(tmp_path: Path) -> None:
    tf = tmp_path / "main.tf"
    tf.write_text('resource "aws_instance" "b" {\n  user_data = "echo 1 > \n')  # broken HCL
    block = Block(kind="resource", type="aws_instance", name="b", address="aws_instance.b",
                  rendered={"user_data": None}, file=str(tf), lines=(1, 2))
    assert block.config == {"user_data": None}
    gone = Block(kind="resource", type="aws_instance", name="b", address="aws_instance.b",
                 rendered={"user_data": None}, file=str(tmp_path / "missing.tf"), lines=(1, 2))
    assert gone.config == {"user_data": None}
