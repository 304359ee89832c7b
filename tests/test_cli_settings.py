"""Settings and output plumbing: ``[tool.sepcalc]`` defaults, ``--output``, ``--require-budget``,
shell completion, and ``schema_version`` on every JSON output."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from sepcalc.cli import app
from sepcalc.cli.config import Settings, default_map, read
from sepcalc.errors import SepcalcError

ROOT = Path(__file__).resolve().parent.parent
V1 = str(ROOT / "examples" / "mobilenet_v1.yaml")
V1_MACS = 568_740_352  # Howard et al. 2017, Table 1: 569M mult-adds


def invoke(*args: str, **extra: object) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, list(args), **extra)  # type: ignore[arg-type]
    return result.exit_code, result.stdout, result.stderr


def _project(tmp_path: Path, table: str) -> Path:
    """A project with a pyproject.toml holding ``table`` and a models/ folder with a spec."""
    (tmp_path / "pyproject.toml").write_text(f'[project]\nname = "x"\n\n[tool.sepcalc]\n{table}')
    (tmp_path / "models").mkdir()
    (tmp_path / "models" / "net.yaml").write_text(Path(V1).read_text())
    return tmp_path


def _main(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """The console script, run in ``cwd`` (where it looks for pyproject.toml)."""
    code = (
        f"import sys\nsys.argv = ['sepcalc', *{list(args)!r}]\nfrom sepcalc.cli import main\nmain()"
    )
    return subprocess.run([sys.executable, "-c", code], cwd=cwd, capture_output=True, text=True)


# --- [tool.sepcalc] -------------------------------------------------------------------------


def test_settings_reach_every_command_with_that_option(tmp_path: Path) -> None:
    path = _project(tmp_path, 'convention = "fvcore"\nbudgets = "ci/budgets.yaml"\n')
    settings = read(path / "pyproject.toml")
    assert settings.values == {
        "convention": "fvcore",
        "budgets": str(tmp_path.resolve() / "ci" / "budgets.yaml"),  # relative to the file
    }
    from typer.main import get_command

    from sepcalc.cli import register

    register()
    defaults = default_map(get_command(app), settings)
    assert defaults["analyze"] == {"convention": "fvcore"}
    assert defaults["check"] == {"convention": "fvcore", "budgets": settings.values["budgets"]}
    assert defaults["search"]["grid"] == {"convention": "fvcore"}  # nested groups too
    assert "zoo" not in defaults  # no option of those names


def test_a_setting_is_a_default_and_the_flag_wins() -> None:
    settings = Settings(Path("pyproject.toml"), {"convention": "fvcore"})
    defaults = {"default_map": {"analyze": {"convention": settings.values["convention"]}}}
    code, out, _ = invoke("analyze", V1, "-f", "json", **defaults)
    assert (code, json.loads(out)["convention"]["name"]) == (0, "fvcore")
    code, out, _ = invoke("analyze", V1, "-f", "json", "--convention", "torch", **defaults)
    assert (code, json.loads(out)["convention"]["name"]) == (0, "torch")


def test_console_script_reads_the_nearest_pyproject(tmp_path: Path) -> None:
    project = _project(tmp_path, 'budgets = "budgets.yaml"\nconvention = "fvcore"\n')
    (project / "budgets.yaml").write_text('"**/*.yaml":\n  macs: 500M\n')
    done = _main(project / "models", "check", "net.yaml", "-f", "json")
    assert done.returncode == 1, done.stderr  # 568,740,352 MACs > 500M: the file was read
    report = json.loads(done.stdout)
    assert report["convention"]["name"] == "fvcore"
    (check,) = report["specs"][0]["checks"]
    assert (check["metric"], check["limit"], check["value"]) == ("macs", 500_000_000, V1_MACS)
    flag = _main(project / "models", "check", "net.yaml", "--budgets", str(project / "none.yaml"))
    assert flag.returncode == 2  # the flag wins: its (missing) file is the one read
    assert "none.yaml" in flag.stderr


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ('conventon = "fvcore"\n', "unknown key 'conventon'; did you mean 'convention'?"),
        ("require-budget = 1\n", "require-budget must be a boolean, got 1"),
        ("convention = fvcore\n", "cannot read [tool.sepcalc]: Invalid value"),
    ],
    ids=["unknown-key", "wrong-type", "invalid-toml"],
)
def test_bad_settings_are_exit_2(tmp_path: Path, table: str, message: str) -> None:
    project = _project(tmp_path, table)
    done = _main(project, "analyze", "models/net.yaml")
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr.startswith(f"error: {project / 'pyproject.toml'}")
    assert message in done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize(
    ("table", "message"),
    [
        # line 5: [project], name, a blank line, [tool.sepcalc], then the key
        ('device = "rpi4"\n', ":5:1: [tool.sepcalc] device = 'rpi4': unknown device; built-in: "),
        ('convention = "fvcor"\n', ":5:1: [tool.sepcalc] convention = 'fvcor': unknown convention"
         "; did you mean 'fvcore'?"),
        ('budgets = "b.yaml"\n  conventon = "x"\n', ":6:3: [tool.sepcalc] unknown key 'conventon'"),
    ],
    ids=["device", "convention", "unknown-key"],
)  # fmt: skip
def test_bad_setting_values_name_the_pyproject_line_not_an_option(
    tmp_path: Path, table: str, message: str
) -> None:
    project = _project(tmp_path, table)
    (project / "b.yaml").write_text('"**/*.yaml":\n  macs: 600M\n')
    done = _main(project, "analyze", "models/net.yaml")
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr.startswith(f"error: {project / 'pyproject.toml'}{message}")
    assert "--device" not in done.stderr and "--convention" not in done.stderr


def test_the_documented_device_setting_is_a_built_in_device(tmp_path: Path) -> None:
    """docs/ci.md's [tool.sepcalc] example runs as written."""
    docs = (ROOT / "docs" / "ci.md").read_text()
    table = docs.split("[tool.sepcalc]\n", 1)[1].split("```", 1)[0]
    project = _project(tmp_path, table.replace('"ci/budgets.yaml"', '"b.yaml"'))
    (project / "b.yaml").write_text('"**/*.yaml":\n  macs: 600M\n')
    done = _main(project, "analyze", "models/net.yaml", "-f", "json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["device"]["device"]["name"] == "raspberry-pi-4"


def test_read_rejects_a_non_table(tmp_path: Path) -> None:
    path = tmp_path / "pyproject.toml"
    path.write_text('[tool]\nsepcalc = "fvcore"\n')
    with pytest.raises(SepcalcError, match=r"\[tool.sepcalc\] must be a table"):
        read(path)


# --- --output --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [
        ("analyze", V1, "-f", "json"),
        ("analyze", V1),
        ("check", V1, "--max-macs", "600M", "-f", "json"),
        ("diff", V1, V1, "-f", "json"),
        ("schema", "budgets"),
    ],
    ids=["analyze-json", "analyze-table", "check", "diff", "schema"],
)
def test_output_writes_the_report_to_a_file(tmp_path: Path, args: tuple[str, ...]) -> None:
    code, printed, _ = invoke(*args)
    target = tmp_path / "report.out"
    code_to_file, out, _ = invoke(*args, "--output", str(target))
    assert (code_to_file, out) == (code, "")
    assert target.read_text() == printed


def test_output_of_a_failed_check_is_still_written(tmp_path: Path) -> None:
    target = tmp_path / "r.json"
    code, _, _ = invoke("check", V1, "--max-macs", "500M", "-f", "json", "-o", str(target))
    assert code == 1
    assert json.loads(target.read_text())["status"] == "fail"


def test_no_file_without_a_report(tmp_path: Path) -> None:
    target = tmp_path / "r.json"
    code, _, err = invoke("analyze", str(tmp_path / "missing.yaml"), "-o", str(target))
    assert code == 2
    assert "cannot read spec" in err
    assert not target.exists()


def test_an_unwritable_output_is_exit_2(tmp_path: Path) -> None:
    code, _, err = invoke("analyze", V1, "-o", str(tmp_path / "no" / "such" / "dir.txt"))
    assert code == 2
    assert "error: cannot write" in err


# --- check --require-budget -------------------------------------------------------------------


def test_require_budget_turns_the_warning_into_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    lenient = invoke("check", "examples/resnet50.yaml")  # no budget: section
    assert lenient[0] == 0
    assert "warning: examples/resnet50.yaml: no budget applies" in lenient[2]
    strict = invoke("check", "examples/resnet50.yaml", "--require-budget")
    assert strict[0] == 2
    assert "error: examples/resnet50.yaml: no budget applies" in strict[2]
    budgeted = invoke("check", "examples/resnet50.yaml", "--require-budget", "--max-macs", "5G")
    assert budgeted[0] == 0  # 4,089,184,256 MACs (torchvision: 4.09 GFLOPS)


# --- -V, completion, schema_version ------------------------------------------------------------


def test_help_offers_completion_and_short_version() -> None:
    code, out, _ = invoke("--help")
    assert code == 0
    for option in ("--install-completion", "--show-completion", "-V"):
        assert option in out


@pytest.mark.parametrize(
    "args",
    [
        ("analyze", V1, "-f", "json"),
        ("analyze", V1, "-f", "json", "--symbolic", "alpha"),
        ("check", V1, "--max-macs", "600M", "-f", "json"),
        ("diff", V1, V1, "-f", "json"),
        ("search", "channels", "--k", "3", "--min-factor", "8", "-f", "json"),
        ("search", "width", V1, "--max-macs", "300M", "-f", "json"),
        ("search", "grid", V1, "--var", "alpha=0.5:1.0:0.25", "--max-macs", "600M", "-f", "json"),
        ("zoo", "-f", "json"),
    ],
    ids=["analyze", "symbolic", "check", "diff", "search-layer", "search-width", "grid", "zoo"],
)
def test_every_json_output_has_a_schema_version(args: tuple[str, ...]) -> None:
    code, out, err = invoke(*args)
    assert code in (0, 1), err
    assert json.loads(out)["schema_version"] == 1


@pytest.mark.torch
def test_crosscheck_json_has_a_schema_version() -> None:
    pytest.importorskip("torch")
    pytest.importorskip("fvcore")
    code, out, err = invoke("crosscheck", V1, "--tool", "torch", "-f", "json")
    assert code == 0, err
    data = json.loads(out)
    assert (data["schema_version"], data["agrees"]) == (1, True)
