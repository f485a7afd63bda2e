"""Reading ``sources.yaml`` with line numbers, and its JSON Schema.

Every problem in the file is reported at once, one per line, as
``sources.yaml:14: sources[3].url: not a valid http(s) URL (hint)``.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from scanner.config.delivery import CHANNEL_KINDS
from scanner.config.models import SOURCE_KINDS, Config, looks_like_path
from scanner.errors import ConfigError

MAX_DEPTH = 32  # nesting of mappings and lists; sources.yaml needs about 6
MAX_CONFIG_BYTES = 2_000_000


def _line_map(node: yaml.Node, path: tuple[Any, ...], out: dict[tuple[Any, ...], int], problems: list[str],
              fname: str) -> None:
    """Record the 1-based line of every node, keyed by its path (keys and list indexes)."""
    out.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        keys: dict[Any, int] = {}
        for key_node, value_node in node.value:
            key = key_node.value
            line = key_node.start_mark.line + 1
            if key in keys:
                problems.append(
                    f"{fname}:{line}: {_fmt_loc((*path, key))}: key {key!r} appears twice "
                    f"(first on line {keys[key]}); keep one"
                )
            keys[key] = line
            out[(*path, key)] = line
            _line_map(value_node, (*path, key), out, problems, fname)
    elif isinstance(node, yaml.SequenceNode):
        for i, child in enumerate(node.value):
            _line_map(child, (*path, i), out, problems, fname)


def _fmt_loc(loc: tuple[Any, ...]) -> str:
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += ("." if text else "") + str(part)
    return text or "(top level)"


def _clean_loc(loc: tuple[Any, ...]) -> tuple[Any, ...]:
    """Drop pydantic's union tags (``rss``, ``function-after[...]``, a channel's ``webhook`` right after
    ``digest.deliver[i]``) from an error location."""
    channel_tag = 3 if tuple(loc[:2]) == ("digest", "deliver") else -1
    return tuple(p for i, p in enumerate(loc) if not (isinstance(p, str) and (
        p in SOURCE_KINDS or "[" in p or (i == channel_tag and p in CHANNEL_KINDS))))


def _message(err: Any, data: Any) -> str:
    kind = err["type"]
    kinds, what = (CHANNEL_KINDS, "channel kind") if tuple(err["loc"][:2]) == ("digest", "deliver") \
        else (SOURCE_KINDS, "kind")
    msg = str(err["msg"])
    if msg.startswith("Value error, "):
        msg = msg[len("Value error, "):]
    if kind == "extra_forbidden":
        return "unknown field: check the spelling, or remove it (see `scanner sources schema` for the allowed fields)"
    if kind == "missing":
        return "required field is missing"
    if kind == "union_tag_invalid" or kind == "union_tag_not_found":
        if kind == "union_tag_not_found":
            return f"required field 'kind' is missing: set it to one of {', '.join(kinds)}"
        return f"unknown {what} {err.get('input', {}).get('kind')!r}: use one of {', '.join(kinds)}"
    if kind == "literal_error":
        return f"{msg} (got {err.get('input')!r})"
    return msg


def _format_errors(exc: ValidationError, lines: dict[tuple[Any, ...], int], fname: str, data: Any) -> list[str]:
    problems = []
    for err in exc.errors():
        loc = _clean_loc(tuple(err["loc"]))
        if err["type"] == "union_tag_invalid":
            loc = (*loc, "kind")
        probe = loc
        while probe and probe not in lines:
            probe = probe[:-1]
        line = lines.get(probe, 1)
        problems.append(f"{fname}:{line}: {_fmt_loc(loc)}: {_message(err, data)}")
    return problems


def parse_config(text: str, path: Path | None = None) -> Config:
    """Parse and validate the text of a ``sources.yaml``; raise ``ConfigError`` listing every problem."""
    fname = str(path) if path else "sources.yaml"
    if not text.strip():
        raise ConfigError([f"{fname}:1: the file is empty: add a `sources:` list (see README, 'How to add a source')"])
    problems: list[str] = []
    for n, line in enumerate(text.splitlines(), start=1):
        stripped = line.lstrip(" ")
        if stripped.startswith("\t"):
            problems.append(f"{fname}:{n}: a tab character is used for indentation; YAML needs spaces")
    if problems:
        raise ConfigError(problems)
    try:
        _check_structure(text, fname)
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        lineno = mark.line + 1 if mark else 1
        raise ConfigError([f"{fname}:{lineno}: not valid YAML: {e.problem or e}"]) from None
    except yaml.YAMLError as e:
        raise ConfigError([f"{fname}:1: not valid YAML: {e}"]) from None
    if data is None:
        raise ConfigError([f"{fname}:1: the file has no content: add a `sources:` list"])
    if not isinstance(data, dict):
        raise ConfigError([f"{fname}:1: the top level must be a mapping with `settings:` and `sources:`"])
    lines: dict[tuple[Any, ...], int] = {}
    if node is not None:
        _line_map(node, (), lines, problems, fname)
    base_dir = path.resolve().parent if path else Path.cwd()
    problems.extend(_check_raw_sources(data, lines, fname, base_dir))
    try:
        config = Config.model_validate(data)
    except ValidationError as e:
        problems.extend(_format_errors(e, lines, fname, data))
        config = None
    if config is not None:
        config.path = path.resolve() if path else None
        problems.extend(_check_across_sections(config, lines, fname))
    if problems:
        raise ConfigError(sorted(set(problems), key=_problem_sort_key))
    assert config is not None
    return config


def _check_structure(text: str, fname: str) -> None:
    """Refuse aliases and deep nesting before anything builds the document.

    A few hundred bytes of nested aliases (``*a``) expand to gigabytes once built (an "alias bomb"),
    and 50,000 nested brackets overflow the recursive composer. The event stream is read without
    building anything, so both are found in time linear in the text.
    """
    depth = 0
    for event in yaml.parse(text, Loader=yaml.SafeLoader):
        if isinstance(event, yaml.AliasEvent):
            line = event.start_mark.line + 1 if event.start_mark else 1
            raise ConfigError([f"{fname}:{line}: YAML aliases (*{event.anchor}) are not allowed in this file: "
                               "write the value out where it is needed"])
        if isinstance(event, yaml.MappingStartEvent | yaml.SequenceStartEvent):
            depth += 1
            if depth > MAX_DEPTH:
                line = event.start_mark.line + 1 if event.start_mark else 1
                raise ConfigError([f"{fname}:{line}: nested more than {MAX_DEPTH} levels deep; sources.yaml "
                                   "never needs that (is an indentation or a bracket wrong?)"])
        elif isinstance(event, yaml.MappingEndEvent | yaml.SequenceEndEvent):
            depth -= 1


def _problem_sort_key(p: str) -> tuple[int, str]:
    m = re.match(r"^.*?:(\d+):", p)
    return (int(m.group(1)) if m else 0, p)


def _check_raw_sources(data: dict[str, Any], lines: dict[tuple[Any, ...], int], fname: str,
                       base_dir: Path) -> list[str]:
    """Checks that need the whole list or the disk: unique ids, file paths and model folders that exist."""
    problems: list[str] = []
    sources = data.get("sources")
    seen: dict[str, int] = {}
    for i, s in enumerate(sources if isinstance(sources, list) else []):
        if not isinstance(s, dict):
            continue
        sid = s.get("id")
        if isinstance(sid, str):
            if sid in seen:
                line = lines.get(("sources", i, "id"), 1)
                problems.append(
                    f"{fname}:{line}: sources[{i}].id: duplicate source id {sid!r} (also sources[{seen[sid]}] "
                    f"on line {lines.get(('sources', seen[sid], 'id'), 1)}); every id must be unique"
                )
            else:
                seen[sid] = i
        if s.get("kind") == "file" and isinstance(s.get("path"), str):
            p = Path(s["path"]).expanduser()
            full = p if p.is_absolute() else base_dir / p
            if not full.exists():
                line = lines.get(("sources", i, "path"), 1)
                problems.append(
                    f"{fname}:{line}: sources[{i}].path: {s['path']!r} does not exist "
                    f"(looked for {full}); paths are relative to the folder of {Path(fname).name}"
                )
    model = (data.get("analysis") or {}).get("model") if isinstance(data.get("analysis"), dict) else None
    if isinstance(model, str) and looks_like_path(model):
        full = Path(model).expanduser()
        full = full if full.is_absolute() else base_dir / full
        if not full.is_dir():
            line = lines.get(("analysis", "model"), 1)
            problems.append(f"{fname}:{line}: analysis.model: the folder {model!r} does not exist (looked for {full}); "
                            f"paths are relative to the folder of {Path(fname).name}")
    return problems


def _check_across_sections(config: Config, lines: dict[tuple[Any, ...], int], fname: str) -> list[str]:
    """Rules between sections: retention must not reach into the analysis window."""
    months, weeks = config.settings.keep_bodies, config.analysis.window_weeks
    if months is not None and months * 28 < weeks * 7:
        line = lines.get(("settings", "keep_bodies"), 1)
        return [f"{fname}:{line}: settings.keep_bodies: {months} months is shorter than the analysis window "
                f"({weeks} weeks): items still analysed would lose their text; keep at least "
                f"{-(-weeks * 7 // 28)} months"]
    return []


def load_config(path: str | Path) -> Config:
    """Read, parse and validate ``sources.yaml``."""
    p = Path(path)
    if not p.exists():
        raise ConfigError([f"{p}: no such file: create it (see README, 'How to add a source') or pass --config"])
    if p.stat().st_size > MAX_CONFIG_BYTES:
        raise ConfigError([f"{p}:1: the file is {p.stat().st_size:,} bytes; a sources.yaml is at most "
                           f"{MAX_CONFIG_BYTES:,}"])
    raw = p.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        line = raw[: e.start].count(b"\n") + 1
        raise ConfigError([f"{p}:{line}: the file is not UTF-8: save it as UTF-8 (Thai text needs it)"]) from None
    return parse_config(text, p)


def config_schema() -> dict[str, Any]:
    """JSON Schema of ``sources.yaml`` for editors (``scanner sources schema``)."""
    schema = Config.model_json_schema(mode="validation")
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "scanner sources.yaml"
    return schema


def schema_json() -> str:
    return json.dumps(config_schema(), indent=2, ensure_ascii=False)
