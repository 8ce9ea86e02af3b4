"""What the learner should read first in a run's output, worked out from the real text on the server.

- `usage_error`: the AWS CLI answers a mistyped subcommand with its usage, ~8 KB of valid choices and, at
  the very end, "Invalid choice: 'list-buckt', maybe you meant: * list-buckets". The console shows the
  error and the suggestion first (as a corrected command line) and folds the rest away.
- `trim_traceback`: a failing boto3 call raises from deep inside botocore; the learner's own lines and the
  final error are what matter, so frames of installed packages and the standard library are folded into
  one line each run ("… 9 frames in botocore, urllib3"), and earlier chained tracebacks are dropped.

Both return None when there is nothing to improve; the template then shows the output as it is (and it
always offers the untouched text too). Everything here is plain text: escaping stays the template's job.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field

# argparse names the program: "aws: error: ..." (or the script that ran the CLI's driver).
_CLI_ERROR = re.compile(r"^[\w.-]+: error: (?P<what>.*?)(?:, valid choices are:)?\s*$")
_MAYBE = re.compile(r"^Invalid choice: '(?P<word>[^']*)', maybe you meant:\s*$")
_SUGGESTION = re.compile(r"^\s+\* (?P<choice>\S+)\s*$")
_CHOICE_ROW = re.compile(r"^\S+\s+\|\s+\S*\s*$|^\S+\s*$")


@dataclass
class UsageError:
    error: str  # "argument operation: Invalid choice: 'list-buckt'"
    suggestions: list[str] = field(default_factory=list)  # ["aws s3api list-buckets"] or bare words
    choices: int = 0  # how many valid choices the CLI listed (folded away)


def usage_error(stderr: str, command_line: str = "") -> UsageError | None:
    """The headline of an AWS CLI usage error, or None if `stderr` is not one (or is short anyway)."""
    lines = stderr.splitlines()
    error_at = next((i for i, line in enumerate(lines) if _CLI_ERROR.match(line)), None)
    if error_at is None:
        return None
    what = _CLI_ERROR.match(lines[error_at]).group("what")
    word, suggestions = "", []
    for i, line in enumerate(lines[error_at + 1:], start=error_at + 1):
        if match := _MAYBE.match(line):
            word = match.group("word")
            suggestions = [m.group("choice") for m in map(_SUGGESTION.match, lines[i + 1:]) if m]
            break
    choices = sum(
        line.count("|") + 1 for line in lines[error_at + 1:] if line.strip() and _CHOICE_ROW.match(line.strip())
        and not _MAYBE.match(line)
    ) if "valid choices are" in lines[error_at] else 0
    if word:
        what = f"{what}: '{word}'" if "Invalid choice" in what else f"{what} ('{word}')"
    return UsageError(error=what, suggestions=[_corrected(command_line, word, s) for s in suggestions],
                      choices=choices)


def _corrected(command_line: str, word: str, suggestion: str) -> str:
    """The learner's command with the mistyped word replaced: `aws s3api list-buckets`."""
    try:
        argv = shlex.split(command_line)
    except ValueError:
        return suggestion
    if word not in argv:
        return suggestion
    argv[argv.index(word)] = suggestion
    return shlex.join(argv)


@dataclass
class TrimmedTraceback:
    text: str  # what to show first
    hidden_frames: int
    hidden_tracebacks: int  # earlier exceptions of a chain ("The above exception was the direct cause...")


_TRACEBACK = "Traceback (most recent call last):"
_FRAME = re.compile(r'^  File "(?P<file>[^"]+)", line \d+')
# Code the learner did not write: installed packages (/opt/lab/site-packages in the sandbox), the
# standard library (.../lib/python3.N/), frozen modules.
_INTERNAL = re.compile(r"/site-packages/|/dist-packages/|/lib/python3\.\d+/|^<frozen ")
# The package a frame is in; the CLI vendors its own botocore (awscli/botocore/...): name that one.
_PACKAGE = re.compile(r"/(?:site|dist)-packages/(?:awscli/(?=botocore/|s3transfer/))?(?P<name>[A-Za-z0-9_]+)")


def trim_traceback(stderr: str) -> TrimmedTraceback | None:
    """The last traceback in `stderr` without internal frames, or None if there is none to hide."""
    lines = stderr.rstrip("\n").split("\n")
    starts = [i for i, line in enumerate(lines) if line == _TRACEBACK]
    if not starts:
        return None
    first, last = starts[0], starts[-1]
    shown = lines[:first]  # whatever the script wrote to stderr before failing
    hidden_tracebacks = len(starts) - 1
    if hidden_tracebacks:
        shown.append(f"(… {hidden_tracebacks} earlier exception{'s' if hidden_tracebacks > 1 else ''} "
                     "that led to this one: see the full traceback)")
    shown.append(_TRACEBACK)
    hidden_total = 0
    pending: list[str] = []  # packages of the current run of hidden frames

    def flush():
        nonlocal pending
        if pending:
            names = ", ".join(dict.fromkeys(p or "the standard library" for p in pending))
            shown.append(f"  … {len(pending)} frame{'s' if len(pending) > 1 else ''} inside {names}")
            pending = []

    i = last + 1
    while i < len(lines) and (match := _FRAME.match(lines[i])):
        body_end = i + 1
        while body_end < len(lines) and lines[body_end].startswith("    "):
            body_end += 1
        if body_end < len(lines) and lines[body_end].startswith("  [Previous line repeated"):
            body_end += 1
        filename = match.group("file")
        if _INTERNAL.search(filename):
            package = _PACKAGE.search(filename)
            pending.append(package.group("name") if package else "")
            hidden_total += 1
        else:
            flush()
            shown.extend(lines[i:body_end])
        i = body_end
    flush()
    shown.extend(lines[i:])  # the exception and its message
    if not hidden_total and not hidden_tracebacks:
        return None
    return TrimmedTraceback("\n".join(shown) + "\n", hidden_total, hidden_tracebacks)
