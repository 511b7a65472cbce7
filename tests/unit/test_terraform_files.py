"""Reading the files a Terraform block references: paths, limits, bad files and template variables."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

from keyless.lang import terraform_files
from keyless.lang.terraform import Block, TerraformModel
from keyless.lang.terraform_files import calls_in, referenced_texts, render_line, resolve_path, take_problems

KEY_ID = "AKIABDSOF2MPEICZADER"


def _block(root: Path, body: str, name: str = "web", module_dir: Path | None = None) -> Block:
    folder = module_dir or root
    folder.mkdir(parents=True, exist_ok=True)
    text = f'resource "aws_instance" "{name}" {{\n{body}\n}}\n'
    (folder / "main.tf").write_text(text)
    return Block(kind="resource", type="aws_instance", name=name, address=f"aws_instance.{name}", rendered={},
                 file=str(folder / "main.tf"), lines=(1, text.count("\n")), tree=str(root))


@pytest.fixture(autouse=True)
def _fresh_problems() -> None:
    take_problems()


def test_path_module_root_and_plain_relative_paths(tmp_path: Path) -> None:
    block = _block(tmp_path, 'user_data = "x"')
    assert resolve_path("${path.module}/files/a.sh", block) == str(tmp_path / "files/a.sh")
    assert resolve_path("${ path.root }/a.sh", block) == str(tmp_path / "a.sh")
    assert resolve_path("files/../b.sh", block) == str(tmp_path / "b.sh")
    assert resolve_path("${var.folder}/a.sh", block) is None  # not knowable offline


def test_a_module_block_reads_path_module_from_its_folder_and_relative_paths_from_the_root(tmp_path: Path) -> None:
    caller = tmp_path / "main.tf"
    block = _block(tmp_path, 'user_data = "x"', module_dir=tmp_path / "modules/web")
    block = Block(**{**block.__dict__, "module": f'{{"path": "{caller}", "name": "web", "nested_tf_module": null}}'})
    assert resolve_path("${path.module}/a.sh", block) == str(tmp_path / "modules/web/a.sh")
    assert resolve_path("a.sh", block) == str(tmp_path / "a.sh")


def test_file_and_templatefile_are_read_with_literal_variables_substituted(tmp_path: Path) -> None:
    (tmp_path / "files").mkdir()
    (tmp_path / "files/boot.sh").write_text(f"#!/bin/bash\nexport AWS_ACCESS_KEY_ID={KEY_ID}\n")
    (tmp_path / "files/boot.tpl").write_text(
        "region=${region}\nkey=${key}\nsecret=${secret}\nhome=$${HOME}\n%%{ not a directive }\n")
    block = _block(tmp_path, '\n'.join([
        '  user_data = file("${path.module}/files/boot.sh")',
        '  tags = { t = templatefile("files/boot.tpl", { region = "eu-west-1", key = var.key, secret = var.secret }) }',
    ]))
    variables = [Block(kind="variable", type="variable", name="key", address="var.key", rendered={"default": KEY_ID},
                       file=block.file),
                 Block(kind="variable", type="variable", name="secret", address="var.secret", rendered={}, file=block.file)]
    found = {t.path: t for t in referenced_texts(block, TerraformModel(blocks=[block, *variables]))}
    boot = found[("user_data",)]
    assert boot.file == str(tmp_path / "files/boot.sh") and boot.function == "file"
    assert boot.line_holding(KEY_ID) == 2 and boot.line_at(boot.text.index(KEY_ID)) == 2
    template = found[("tags", "t")]
    assert template.text == f"region=eu-west-1\nkey={KEY_ID}\nsecret=${{secret}}\nhome=${{HOME}}\n%{{ not a directive }}\n"
    assert template.line_holding(KEY_ID) is None  # substituted: written in the code, not in the template
    assert take_problems() == []


def test_calls_nested_in_other_expressions_are_found() -> None:
    written = "${base64encode(templatefile(\"${path.module}/a.tpl\",{'k': 'v)'}))} ${fileexists(\"x\")} ${file(\"b\")}"
    assert [(c.function, c.path, c.variables) for c in calls_in(written)] == [
        ("templatefile", "${path.module}/a.tpl", "{'k': 'v)'}"), ("file", "b", "")]


def test_render_line_keeps_unknown_placeholders_and_unescapes() -> None:
    assert render_line("a=${a} b=${ b } c=${c} $${d} %%{e}", {"a": "1", "b": "2"}) == "a=1 b=2 c=${c} ${d} %{e}"


def _problems() -> dict[str, str]:
    return {os.path.basename(p.file): p.reason for p in take_problems()}


def test_missing_folder_fifo_and_oversized_files_are_one_line_problems(tmp_path: Path) -> None:
    (tmp_path / "folder").mkdir()
    os.mkfifo(tmp_path / "pipe")
    (tmp_path / "big.sh").write_bytes(b"x" * (terraform_files.MAX_BYTES + 1))
    block = _block(tmp_path, "\n".join(f'  {attr} = file("${{path.module}}/{name}")' for attr, name in
                                       [("a", "missing.sh"), ("b", "folder"), ("c", "pipe"), ("d", "big.sh")]))
    done: list[list[object]] = []
    reader = threading.Thread(target=lambda: done.append(referenced_texts(block, None)), daemon=True)
    reader.start()
    reader.join(timeout=60)
    assert done == [[]], "a FIFO must never be opened"
    problems = _problems()
    assert problems == {"missing.sh": "not found", "folder": "is a folder, not a file", "pipe": "is not a regular file",
                        "big.sh": "is larger than 1024 KiB"}
    assert all("\n" not in p for p in problems.values())


def test_binary_content_is_a_problem_for_file_and_expected_for_filebase64(tmp_path: Path) -> None:
    (tmp_path / "logo.png").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\xff\xfe")
    (tmp_path / "latin1.txt").write_bytes("caf\xe9".encode("latin-1"))
    (tmp_path / "nul.txt").write_bytes(b"a\x00b")
    block = _block(tmp_path, '\n'.join([
        '  a = filebase64("logo.png")', '  b = file("latin1.txt")', '  c = file("nul.txt")']))
    assert referenced_texts(block, None) == []
    assert _problems() == {"latin1.txt": "is not UTF-8 text (byte 3)", "nul.txt": "is binary, not text"}


def test_nothing_outside_the_scanned_tree_is_read(tmp_path: Path) -> None:
    tree = tmp_path / "tree"
    (tmp_path / "secret.sh").write_text(f"export AWS_ACCESS_KEY_ID={KEY_ID}\n")
    tree.mkdir()
    (tree / "link.sh").symlink_to(tmp_path / "secret.sh")
    block = _block(tree, '\n'.join(['  a = file("${path.module}/../secret.sh")', '  b = file("link.sh")',
                                    '  c = file("/etc/hostname")']))
    assert referenced_texts(block, None) == []
    assert set(_problems().values()) == {"outside the scanned folder"}


def test_a_block_without_references_is_not_parsed_again(tmp_path: Path) -> None:
    block = _block(tmp_path, '  user_data = "echo file is here"\n  profile = "fileset"')
    assert terraform_files.written_config(block) is None
    assert referenced_texts(block, None) == []


def test_reads_of_the_operators_credentials_file_are_found(tmp_path: Path) -> None:
    block = _block(tmp_path, "\n".join([
        '  user_data = templatefile("boot.tpl", { creds = file(pathexpand("~/.aws/credentials")) })',
        '  provisioner "file" {', '    source = "~/.aws/credentials"', '    destination = "/root/.aws/credentials"', '  }',
        '  provisioner "file" {', '    source = "~/.aws/config"', '    destination = "/root/.aws/config"', '  }',
    ]))
    found = terraform_files.credentials_file_reads(block)
    assert [(path[0], written) for path, written in found] == [
        ("user_data", "~/.aws/credentials"), ("provisioner", "~/.aws/credentials")]
    referenced_texts(block, None)
    assert _problems() == {"boot.tpl": "not found"}  # the operator's own AWS files are not "unreadable files"


def test_a_script_names_the_line_of_its_first_literal_write() -> None:
    from keyless.lang.terraform_scripts import _scalars, first_write

    script = "#!/bin/bash\nexport AWS_ACCESS_KEY_ID=$(aws ssm get-parameter)\naws configure set aws_secret_access_key abc\n"
    write, offset = first_write(script) or (None, None)
    assert write is not None and write.variable == "aws_secret_access_key" and offset == script.index("aws configure")
    assert first_write("export AWS_ACCESS_KEY_ID=${key}\n") is None
    # what checkov leaves unrendered is not a literal to substitute
    assert _scalars({"a": "x", "b": 'file("~/.aws/credentials")', "c": "var.key", "d": 3, "e": True}) == {
        "a": "x", "d": "3", "e": "true"}
