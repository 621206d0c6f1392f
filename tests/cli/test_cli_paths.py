"""Paths of the command line that the end-to-end tests do not take: the
task list, task and output-directory errors, interruption, a broken pipe,
tracebacks on request, and ``python -m sklipschitz``."""

import runpy
import sys

import pytest

import sklipschitz.cli as cli
from sklipschitz.cli import EXIT_ERROR, EXIT_INTERRUPTED, EXIT_OK, EXIT_USAGE, UsageError
from sklipschitz.cli import compare as cmp

from ._util import assert_one_line_error, run


def test_compare_list_prints_every_task(capsys):
    code, out, err = run(capsys, "compare", "--list")
    assert code == EXIT_OK and err == ""
    lines = out.strip().splitlines()
    tasks = cmp.select_tasks()
    assert len(lines) == len(tasks)
    for line, t in zip(lines, tasks):
        assert line.startswith(t.name) and t.metric in line
        assert line.endswith("(quick)") == bool(t.quick)


def test_compare_unknown_task_is_a_usage_error(capsys):
    code, out, err = run(capsys, "compare", "--tasks", "no-such-task")
    assert code == EXIT_USAGE and out == ""
    assert_one_line_error(err, "--tasks: no task matches 'no-such-task'",
                          cmp.select_tasks()[0].name)


def test_compare_out_must_be_a_directory(capsys, tmp_path):
    path = tmp_path / "a-file"
    path.write_text("x")
    code, _, err = run(capsys, "compare", "--quick", "--tasks", "diabetes-linear",
                       "--out", str(path))
    assert code == EXIT_ERROR
    assert_one_line_error(err, str(path), "exists and is not a directory")
    code, _, err = run(capsys, "compare", "--quick", "--tasks", "diabetes-linear",
                       "--out", str(path / "sub"))
    assert code == EXIT_ERROR
    assert_one_line_error(err, str(path / "sub"), "cannot create the directory")


def _raising(exc):
    def func(args):
        raise exc
    return func


@pytest.fixture
def failing_command(monkeypatch):
    """Every command's function replaced by one raising the given exception."""
    def install(exc):
        from sklipschitz.cli import _parser
        real = _parser.build_parser

        def build():
            parser = real()
            for action in parser._subparsers._group_actions:
                for sub in action.choices.values():
                    sub.set_defaults(func=_raising(exc))
            return parser
        monkeypatch.setattr(_parser, "build_parser", build)
    return install


def test_interrupt_exits_130(capsys, failing_command):
    failing_command(KeyboardInterrupt())
    code, out, err = run(capsys, "compare", "--list")
    assert code == EXIT_INTERRUPTED == 130
    assert err.strip() == "sklipschitz: interrupted"


def test_broken_pipe_is_not_an_error(capsys, failing_command, monkeypatch):
    failing_command(BrokenPipeError())
    monkeypatch.setattr(sys, "stdout", sys.stdout)      # restored after the test
    code, _, err = run(capsys, "compare", "--list")
    assert code == EXIT_OK and err == ""


@pytest.mark.parametrize("exc, fragment", [
    (UsageError("bad flag"), "compare: error: bad flag"),
    (RuntimeError("boom\nsecond line"), "compare: error: RuntimeError: boom"),
    (ValueError("bad value"), "compare: error: bad value"),
])
def test_errors_are_one_line_or_a_traceback_on_request(capsys, failing_command, monkeypatch,
                                                       exc, fragment):
    failing_command(exc)
    code, _, err = run(capsys, "compare", "--list")
    assert code == (EXIT_USAGE if isinstance(exc, UsageError) else EXIT_ERROR)
    assert_one_line_error(err, fragment)
    monkeypatch.setenv("SKLIPSCHITZ_TRACEBACK", "1")
    with pytest.raises(type(exc), match=str(exc).split("\n")[0]):
        cli.main(["compare", "--list"])


def test_python_dash_m_runs_the_command_line(capsys, monkeypatch):
    monkeypatch.setattr(sys, "argv", ["sklipschitz", "compare", "--list"])
    with pytest.raises(SystemExit) as info:
        runpy.run_module("sklipschitz", run_name="__main__")
    assert info.value.code == EXIT_OK
    assert cmp.select_tasks()[0].name in capsys.readouterr().out
