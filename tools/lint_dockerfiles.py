#!/usr/bin/env python3
"""Lint trtlab's Dockerfiles without a Docker engine: parse them, then check what matters here.

The parser follows Dockerfile syntax (``\\`` line continuations, ``#`` comments, parser
directives, JSON and shell forms, ``ARG`` defaults substituted into ``FROM``), so the checks
read instructions, not lines of text:

* ``pinned-base``: every ``FROM`` names a tag or a digest, never ``latest`` (an earlier stage's
  name is fine); an image that moves under the same name rebuilds into something else.
* ``no-secrets``: no ``ARG``/``ENV`` whose name says password/secret/token/key has a value, and no
  value that looks like a credential (private-key block, cloud or forge token prefixes): image
  layers keep them forever.
* ``non-root``: the final stage switches to a non-root ``USER`` (``# lint: allow-root REASON``
  waives it where the base cannot run unprivileged).
* ``no-remote-add``: ``ADD https://...`` fetches unverified bytes; download with a checksum.

Usage: ``python tools/lint_dockerfiles.py [FILE...]`` (default ``docker/Dockerfile.*``); prints
``file:line: rule: message`` for each problem and exits 1 if there is any.
"""

from __future__ import annotations

import json
import re
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

SECRET_NAME = re.compile(
    r"(PASSW(OR)?D|SECRET|TOKEN|API_?KEY|ACCESS_?KEY|PRIVATE_?KEY|CREDENTIAL)", re.I
)
SECRET_VALUE = re.compile(
    r"(-----BEGIN [A-Z ]*PRIVATE KEY-----|AKIA[0-9A-Z]{16}|gh[pousr]_[A-Za-z0-9]{20,}|"
    r"xox[abp]-[A-Za-z0-9-]{10,}|nvapi-[A-Za-z0-9_-]{20,})"
)
ROOT_USERS = {"root", "0", "0:0", "root:root"}


@dataclass(frozen=True)
class Instruction:
    """One Dockerfile instruction: keyword, raw argument text, first line number."""

    keyword: str
    args: str
    line: int


@dataclass(frozen=True)
class Problem:
    path: str
    line: int
    rule: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.rule}: {self.message}"


def parse(text: str) -> tuple[list[Instruction], set[str]]:
    """Instructions (continuations joined, comments dropped) and the ``# lint:`` pragmas."""
    escape = "\\"
    pragmas: set[str] = set()
    out: list[Instruction] = []
    lines = text.splitlines()
    i = 0
    directives_done = False
    while i < len(lines):
        raw = lines[i]
        stripped = raw.strip()
        if not directives_done:
            m = re.match(r"#\s*escape\s*=\s*(\S)", stripped)
            if m:
                escape = m.group(1)
                i += 1
                continue
        if not stripped or stripped.startswith("#"):
            m = re.match(r"#\s*lint:\s*(\S+)", stripped)
            if m:
                pragmas.add(m.group(1))
            if stripped and not re.match(r"#\s*\w+\s*=", stripped):
                directives_done = True
            i += 1
            continue
        directives_done = True
        start = i + 1
        parts: list[str] = []
        line = raw
        while True:
            body = line.rstrip()
            if body.endswith(escape):
                parts.append(body[: -len(escape)])
                i += 1
                # comment lines inside a continuation are skipped, as Docker does
                while i < len(lines) and lines[i].strip().startswith("#"):
                    i += 1
                if i >= len(lines):
                    break
                line = lines[i]
                continue
            parts.append(body)
            break
        i += 1
        joined = " ".join(p.strip() for p in parts).strip()
        keyword, _, args = joined.partition(" ")
        out.append(Instruction(keyword.upper(), args.strip(), start))
    return out, pragmas


def _pairs(args: str) -> list[tuple[str, str]]:
    """``K=V K2="v 2"`` or legacy ``K V`` -> [(K, V), ...]."""
    import shlex

    try:
        tokens = shlex.split(args)
    except ValueError:
        tokens = args.split()
    if tokens and "=" not in tokens[0]:
        return [(tokens[0], " ".join(tokens[1:]))]
    return [(t.split("=", 1)[0], t.split("=", 1)[1] if "=" in t else "") for t in tokens]


def _substitute(value: str, args: dict[str, str]) -> str:
    def repl(m: re.Match[str]) -> str:
        name = m.group(1) or m.group(3)
        default = m.group(2)
        return args.get(name, default if default is not None else "")

    return re.sub(r"\$\{(\w+)(?::-([^}]*))?\}|\$(\w+)", repl, value)


def image_reference_problem(image: str) -> str | None:
    """Why ``image`` is not pinned, or None."""
    if "@sha256:" in image:
        return None
    last = image.rsplit("/", 1)[-1]
    if ":" not in last:
        return f"base image '{image}' has no tag (Docker takes 'latest')"
    tag = last.split(":", 1)[1]
    if not tag:
        return f"base image '{image}' has an empty tag"
    if tag == "latest":
        return f"base image '{image}' uses the moving tag 'latest'"
    return None


def lint_text(text: str, path: str = "<Dockerfile>") -> list[Problem]:
    """Every problem of one Dockerfile's text."""
    instructions, pragmas = parse(text)
    problems: list[Problem] = []
    global_args: dict[str, str] = {}
    stages: list[str] = []
    stage_user: str | None = None
    stage_line = 0
    seen_from = False
    for ins in instructions:
        if ins.keyword == "ARG":
            for name, value in _pairs(ins.args):
                if not seen_from:
                    global_args[name] = value
                _check_secret(name, value, ins, path, problems)
        elif ins.keyword == "ENV":
            for name, value in _pairs(ins.args):
                _check_secret(name, value, ins, path, problems)
        elif ins.keyword == "FROM":
            seen_from = True
            words = [w for w in ins.args.split() if not w.startswith("--")]
            if not words:
                problems.append(Problem(path, ins.line, "pinned-base", "FROM without an image"))
                continue
            image = _substitute(words[0], global_args)
            if image != "scratch" and image not in stages:
                why = image_reference_problem(image)
                if why:
                    problems.append(
                        Problem(path, ins.line, "pinned-base", why + ": pin a release tag")
                    )
            if len(words) >= 3 and words[1].lower() == "as":
                stages.append(words[2])
            stage_user, stage_line = None, ins.line
        elif ins.keyword == "USER":
            stage_user = ins.args.split()[0] if ins.args else ""
        elif ins.keyword == "ADD":
            sources = _add_sources(ins.args)
            if any(re.match(r"(https?|ftp)://", s) for s in sources):
                problems.append(
                    Problem(
                        path,
                        ins.line,
                        "no-remote-add",
                        "ADD from a URL fetches unverified bytes: download with a checksum check",
                    )
                )
        else:
            for m in SECRET_VALUE.finditer(ins.args):
                problems.append(
                    Problem(
                        path, ins.line, "no-secrets", f"credential-like text '{m.group(0)[:12]}...'"
                    )
                )
    if not seen_from:
        problems.append(Problem(path, 1, "pinned-base", "no FROM instruction"))
    elif "allow-root" not in pragmas and (stage_user is None or stage_user in ROOT_USERS):
        what = "never sets USER" if stage_user is None else f"ends as USER {stage_user}"
        problems.append(
            Problem(
                path,
                stage_line,
                "non-root",
                f"the final stage {what}: add a user and `USER name` (or `# lint: allow-root "
                "REASON` where the base cannot run unprivileged)",
            )
        )
    return problems


def _add_sources(args: str) -> list[str]:
    words = args.strip()
    if words.startswith("["):
        try:
            items = json.loads(words)
            return [str(x) for x in items[:-1]]
        except ValueError:
            return []
    tokens = [w for w in words.split() if not w.startswith("--")]
    return tokens[:-1]


def _check_secret(
    name: str, value: str, ins: Instruction, path: str, problems: list[Problem]
) -> None:
    if SECRET_NAME.search(name) and value:
        problems.append(
            Problem(
                path,
                ins.line,
                "no-secrets",
                f"{ins.keyword} {name} has a value baked into the image: pass it at run time "
                "(docker run -e NAME) or use a build secret (RUN --mount=type=secret)",
            )
        )
    elif SECRET_VALUE.search(value):
        problems.append(Problem(path, ins.line, "no-secrets", f"{name} looks like a credential"))


def lint_paths(paths: list[Path]) -> list[Problem]:
    problems: list[Problem] = []
    for p in paths:
        try:
            rel = str(p.relative_to(ROOT))
        except ValueError:
            rel = str(p)
        problems += lint_text(p.read_text(encoding="utf-8"), rel)
    return problems


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    paths = [Path(a) for a in args] or sorted((ROOT / "docker").glob("Dockerfile*"))
    missing = [str(p) for p in paths if not p.is_file()]
    if missing:
        print(f"lint_dockerfiles: not found: {', '.join(missing)}", file=sys.stderr)
        return 2
    problems = lint_paths(paths)
    for problem in problems:
        print(problem)
    print(f"lint_dockerfiles: {len(paths)} file(s), {len(problems)} problem(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
