import stat

import pytest

from local import prerequisites
from local.prerequisites import PrerequisiteError, check_java


def fake_java(tmp_path, version_line: str):
    java = tmp_path / "bin" / "java"
    java.parent.mkdir()
    java.write_text(f"#!/bin/sh\necho '{version_line}' >&2\n")
    java.chmod(java.stat().st_mode | stat.S_IEXEC)
    return tmp_path


def test_missing_java_says_how_to_install_it(monkeypatch, tmp_path):
    monkeypatch.delenv("JAVA_HOME", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(PrerequisiteError, match="openjdk-17"):
        check_java()


def test_wrong_java_version_is_named(monkeypatch, tmp_path):
    monkeypatch.setenv("JAVA_HOME", str(fake_java(tmp_path, 'openjdk version "1.8.0_392"')))
    with pytest.raises(PrerequisiteError, match="is Java 8"):
        check_java()


def test_java_17_passes(monkeypatch, tmp_path):
    monkeypatch.setenv("JAVA_HOME", str(fake_java(tmp_path, 'openjdk version "17.0.15" 2025-04-15')))
    assert check_java().endswith("bin/java")


def test_a_jar_with_the_wrong_checksum_is_not_accepted(tmp_path):
    for name in prerequisites.JARS:
        (tmp_path / name).write_bytes(b"not the jar")
    assert not prerequisites.jars_ok(tmp_path)
