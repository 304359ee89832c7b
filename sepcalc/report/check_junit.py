"""``sepcalc check --format junit``: JUnit XML, one testsuite per spec, one testcase per bound.

A spec that could not be checked is one testcase with an ``<error>``; a spec without any budget
is one ``<skipped>`` testcase, so every spec shows up in the CI system's test view.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from sepcalc.budget import CheckReport, SpecResult, Status
from sepcalc.report.check_common import check_name, message, origin

_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
"""Characters XML 1.0 forbids anywhere, even escaped: most C0 controls, surrogates, U+FFFE/F."""


def xml_text(text: str) -> str:
    """``text`` with each character XML 1.0 forbids written as its escape: U+0001 -> ``\\x01``."""
    return _NOT_XML.sub(lambda m: repr(m.group())[1:-1], text)


def _counts(element: ET.Element, tests: int, failures: int, errors: int, skipped: int) -> None:
    for name, n in (("tests", tests), ("failures", failures), ("errors", errors)):
        element.set(name, str(n))
    element.set("skipped", str(skipped))


def _suite(parent: ET.Element, r: SpecResult) -> None:
    suite = ET.SubElement(parent, "testsuite", name=r.spec)
    if r.network:
        props = ET.SubElement(suite, "properties")
        ET.SubElement(props, "property", name="network", value=r.network)
    if r.status is Status.ERROR:
        case = ET.SubElement(suite, "testcase", classname=r.spec, name="spec is valid", file=r.spec)
        n = len(r.diagnostics)
        error = ET.SubElement(
            case, "error", message=f"{n} error{'s' if n != 1 else ''} in spec", type="invalid"
        )
        error.text = "\n".join(str(d) for d in r.diagnostics)
        _counts(suite, 1, 0, 1, 0)
        return
    if r.status is Status.NO_BUDGET:
        case = ET.SubElement(suite, "testcase", classname=r.spec, name="budget", file=r.spec)
        ET.SubElement(case, "skipped", message="no budget applies to this spec")
        _counts(suite, 1, 0, 0, 1)
        return
    for o in r.outcomes:
        case = ET.SubElement(
            suite, "testcase", classname=r.spec, name=check_name(o), file=o.source.file or r.spec
        )
        if o.source.line:
            case.set("line", str(o.source.line))
        if not o.passed:
            kind = "budget" if o.baseline is None else "baseline"
            failure = ET.SubElement(case, "failure", message=message(r, o), type=kind)
            failure.text = f"{message(r, o)}\nbound set by {origin(o.source)}"
    failures = sum(not o.passed for o in r.outcomes)
    _counts(suite, len(r.outcomes), failures, 0, 0)


def render_junit(report: CheckReport) -> str:
    root = ET.Element("testsuites", name="sepcalc check")
    for r in report.results:
        _suite(root, r)
    suites = root.findall("testsuite")
    tests, failures, errors, skipped = (
        sum(int(s.get(k, "0")) for s in suites) for k in ("tests", "failures", "errors", "skipped")
    )
    _counts(root, tests, failures, errors, skipped)
    for element in root.iter():
        if element.text:
            element.text = xml_text(element.text)
        for key, value in element.attrib.items():
            element.set(key, xml_text(value))
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"
