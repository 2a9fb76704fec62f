"""The browser tests report how many of them ran: a CI log must show they were not skipped."""

from __future__ import annotations


def pytest_configure(config) -> None:
    config.addinivalue_line("markers", "browser: runs JupyterLab in headless Chromium (tests/browser)")


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:
    counts = {"passed": 0, "failed": 0, "error": 0, "skipped": 0}
    reasons = set()
    for outcome in counts:
        for report in terminalreporter.stats.get(outcome, []):
            if "browser" in getattr(report, "keywords", {}) and getattr(report, "when", "call") in ("call", "setup"):
                if outcome == "passed" and report.when != "call":
                    continue
                counts[outcome] += 1
                if outcome == "skipped" and isinstance(report.longrepr, tuple):
                    reasons.add(str(report.longrepr[2]))
    if any(counts.values()):
        line = (f"browser tests (JupyterLab in headless Chromium): {counts['passed']} passed, "
                f"{counts['failed']} failed, {counts['error']} errors, {counts['skipped']} skipped")
        terminalreporter.write_sep("-", line)
        from .lab import RUN_ALL_SECONDS

        if RUN_ALL_SECONDS:
            terminalreporter.write_line("  Run All in JupyterLab: " + ", ".join(
                f"{name} {seconds:.0f} s" for name, seconds in RUN_ALL_SECONDS.items()))
        for reason in sorted(reasons):
            terminalreporter.write_line(f"  skipped because: {reason}")

