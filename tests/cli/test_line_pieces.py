"""The pure pieces behind the line options: picking lines, the output and its template."""

from __future__ import annotations

import pytest

import fwbatch_async as fw
from fwbatch_async.cli.lineformat import LineTemplate, choose_output
from fwbatch_async.cli.picking import LinePicker, compile_patterns


def entry(message: str, ns: int = 0) -> fw.LogEntry:
    return fw.LogEntry(fw.Timestamp(ns), 0, message)


@pytest.mark.parametrize(
    ("include", "exclude", "message", "shown"),
    [
        ([], [], "anything", True),
        (["ERR", "WARN"], [], "a WARNING", True),
        (["ERR", "WARN"], [], "all fine", False),
        ([], ["^Heartbeat"], "Heartbeat 3", False),
        (["rank"], ["rank 1"], "rank 1 died", False),
        (["rank"], ["rank 1"], "rank 0 died", True),
        (["^boom$"], [], "Traceback\nboom", False),  # a pattern sees the whole message, not its lines
        (["boom"], [], "Traceback\nboom", True),
    ],
)
def test_a_line_shows_when_an_include_matches_and_no_exclude(
    include: list[str], exclude: list[str], message: str, shown: bool
) -> None:
    picker = LinePicker(compile_patterns(include, "--include"), compile_patterns(exclude, "--exclude"))
    assert picker.shows(entry(message)) is shown


def test_with_a_floor_older_lines_are_not_shown() -> None:
    picker = LinePicker(not_before_ns=10)
    assert [picker.shows(entry("x", ns)) for ns in (9, 10, 11)] == [False, True, True]


def test_a_bad_pattern_names_its_option() -> None:
    with pytest.raises(ValueError, match=r"^--exclude '\(' is not a regular expression: missing \)"):
        compile_patterns(["ok", "("], "--exclude")


@pytest.mark.parametrize(
    ("output", "as_json", "template", "chosen"),
    [
        (None, False, None, "text"),
        ("raw", False, None, "raw"),
        (None, True, None, "json"),
        ("json", True, None, "json"),  # the same thing twice is one ask
        (None, False, "{message}", "template"),
        ("template", False, "{message}", "template"),
    ],
)
def test_output_from_o_json_and_template(output: str | None, as_json: bool, template: str | None, chosen: str) -> None:
    assert choose_output(output, as_json=as_json, template=template)[0] == chosen


def test_a_template_renders_every_field_with_its_spec() -> None:
    template = LineTemplate.parse("{{{job}}} {rank:02d} {time} {message!r}")
    line = template.render(fw.LogEntry(fw.Timestamp.parse("2026-11-22T04:00:00.5Z"), 3, "a\tb"), "j")
    assert line == "{j} 03 2026-11-22T04:00:00.500000000Z 'a\\tb'"
    assert template.render(entry("m"), None).startswith("{} ")


@pytest.mark.parametrize("text", ["{0}", "{time[0]}", "{rank.real}", "{message:{width}}", "{rank:s}", "}"])
def test_a_template_takes_only_its_four_names(text: str) -> None:
    with pytest.raises(ValueError, match="--template"):
        LineTemplate.parse(text)
