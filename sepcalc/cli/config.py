"""Defaults from ``[tool.sepcalc]`` in the nearest pyproject.toml, as ruff and mypy read theirs.

Only the command line reads it (the core never reads files or the environment for settings). A
key sets the default of every option of that name, in every command that has one; an option
given on the command line wins. Paths are relative to the pyproject.toml that names them.

    [tool.sepcalc]
    convention = "fvcore"           # --convention
    budgets = "ci/budgets.yaml"     # check --budgets
    require-budget = true           # check --require-budget
    device = "raspberry-pi-4"       # --device, where a command has it
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sepcalc.errors import SepcalcError, did_you_mean

TABLE = "tool.sepcalc"

KEYS: dict[str, tuple[str, type, bool]] = {
    "convention": ("convention", str, False),
    "budgets": ("budgets", str, True),
    "require-budget": ("require_budget", bool, False),
    "device": ("device", str, False),
}
"""Each key: the option parameter it sets, its type, and whether it is a path."""


@dataclass(frozen=True)
class Settings:
    file: Path
    """The pyproject.toml they come from."""
    values: Mapping[str, Any]
    """Option parameter name -> default (paths made absolute)."""


def find(start: Path) -> Path | None:
    """The nearest pyproject.toml at or above ``start`` that has a ``[tool.sepcalc]`` table."""
    for folder in (start, *start.parents):
        candidate = folder / "pyproject.toml"
        try:
            text = candidate.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            continue
        if "[tool.sepcalc]" in text or "tool.sepcalc" in text:
            return candidate
    return None


def read(path: Path) -> Settings:
    """The settings of ``path``'s ``[tool.sepcalc]``; an unknown key or a wrong type is an
    error naming the file."""
    import tomllib

    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise SepcalcError(f"{path}: cannot read [{TABLE}]: {exc}") from None
    table = data.get("tool", {}).get("sepcalc", {})
    if not isinstance(table, dict):
        raise SepcalcError(f"{path}: [{TABLE}] must be a table")
    text = path.read_text(encoding="utf-8")
    values: dict[str, Any] = {}
    for key, value in table.items():
        where = _where(path, text, key)
        if key not in KEYS:
            raise SepcalcError(
                f"{where}: [{TABLE}] unknown key '{key}'{did_you_mean(key, KEYS)}; "
                f"keys: {', '.join(KEYS)}"
            )
        param, kind, is_path = KEYS[key]
        if not isinstance(value, kind):
            shown = str(value).lower() if isinstance(value, bool) else repr(value)
            raise SepcalcError(
                f"{where}: [{TABLE}] {key} must be a {'boolean' if kind is bool else 'string'}, "
                f"got {shown}"
            )
        problem = _invalid(key, value)
        if problem:
            raise SepcalcError(f"{where}: [{TABLE}] {key} = {value!r}: {problem}")
        if is_path or (key == "device" and _is_file(str(value))):
            value = str((path.parent / str(value)).resolve())
        values[param] = value
    return Settings(path, values)


def _is_file(device: str) -> bool:
    """A device setting that names a device file (relative to the pyproject.toml)."""
    return device.endswith((".yaml", ".yml")) or "/" in device


def _invalid(key: str, value: Any) -> str:
    """Why a setting's value can never be used ('' when it can): an unknown convention or
    built-in device is refused here, where the file and line are known."""
    if key == "convention":
        from sepcalc.conventions import PRESETS

        if value not in PRESETS:
            return f"unknown convention{did_you_mean(value, PRESETS)}; choose {', '.join(PRESETS)}"
    if key == "device" and not _is_file(value):
        from sepcalc.device.devices import preset_names

        names = preset_names()
        if value not in names:
            return (
                f"unknown device{did_you_mean(value, names)}; built-in: {', '.join(names)}, or "
                "the path of a device file (.yaml)"
            )
    return ""


def _where(path: Path, text: str, key: str) -> str:
    """``path:line:col`` of ``key`` in the ``[tool.sepcalc]`` table (``path`` alone when the
    key is not written plainly there, e.g. in a dotted or inline table)."""
    import re

    inside = False
    for number, line in enumerate(text.splitlines(), 1):
        stripped = line.strip()
        if stripped.startswith("["):
            inside = stripped.replace(" ", "") == f"[{TABLE}]"
            continue
        found = re.match(rf"\s*[\"']?{re.escape(key)}[\"']?\s*=", line)
        if inside and found:
            return f"{path}:{number}:{len(line) - len(line.lstrip()) + 1}"
    return str(path)


def default_map(command: Any, settings: Settings) -> dict[str, Any]:
    """click's ``default_map`` for ``command`` (a click group): the settings under every
    command, at any depth, that has an option of that name."""
    result: dict[str, Any] = {}
    commands = getattr(command, "commands", None)  # a group (typer may vendor its click)
    if commands is not None:
        for name, sub in commands.items():
            nested = default_map(sub, settings)
            if nested:
                result[name] = nested
        return result
    names = {p.name for p in command.params}
    return {k: v for k, v in settings.values.items() if k in names}
