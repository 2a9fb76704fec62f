"""JupyterLab and headless Chromium for the end-to-end tests (and ``make screenshots``).

:func:`find_chromium` finds the browser; :class:`LabServer` starts JupyterLab on a free
local port in a scratch copy of the notebooks (so nothing the browser runs is saved into
the repository); :class:`LabPage` opens one notebook in a page, runs all cells and reads
state back from its kernel.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--hide-scrollbars"]
# JupyterLab settings for the test profile: every cell stays in the DOM (no virtual scrolling),
# no autosave, no news or update checks (nothing reaches the network).
LAB_SETTINGS = {
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
    "@jupyterlab/docmanager-extension/plugin.jupyterlab-settings": {"autosave": False},
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {"fetchNews": "false",
                                                                       "checkForUpdates": False},
}


#: {notebook: seconds of Run All} of this process, for the end-of-run summary (conftest.py).
RUN_ALL_SECONDS: dict[str, float] = {}


def find_chromium() -> str | None:
    """TLKIT_CHROMIUM, else chromium / chromium-browser / google-chrome on the PATH."""
    override = os.environ.get("TLKIT_CHROMIUM")
    if override:
        return override if Path(override).exists() else None
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        found = shutil.which(name)
        if found:
            return found
    return None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class LabServer:
    """``jupyter lab`` on 127.0.0.1:<free port>, root folder ``workdir`` (a copy of notebooks/)."""

    def __init__(self, workdir: Path, log_path: Path) -> None:
        self.workdir = Path(workdir)
        self.port = free_port()
        self.token = secrets.token_hex(16)
        self.base = f"http://127.0.0.1:{self.port}"
        self.log_path = Path(log_path)
        self.process: subprocess.Popen | None = None

    @staticmethod
    def prepare(workdir: Path) -> Path:
        """Copy the student notebooks into ``workdir/notebooks``; link the rest of the repo beside them."""
        workdir.mkdir(parents=True, exist_ok=True)
        (workdir / "notebooks").mkdir(exist_ok=True)
        for nb in sorted((REPO / "notebooks").glob("*.ipynb")):
            shutil.copy2(nb, workdir / "notebooks" / nb.name)
        for entry in REPO.iterdir():
            if entry.name not in ("notebooks", ".git", ".venv") and not (workdir / entry.name).exists():
                (workdir / entry.name).symlink_to(entry)
        return workdir

    def start(self, timeout: float = 90.0) -> LabServer:
        home = self.workdir / ".lab-profile"
        settings = home / "settings"
        for name, values in LAB_SETTINGS.items():
            path = settings / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(values))
        env = {**os.environ, "JUPYTERLAB_SETTINGS_DIR": str(settings),
               "JUPYTERLAB_WORKSPACES_DIR": str(home / "workspaces"),
               "JUPYTER_RUNTIME_DIR": str(home / "runtime"), "OPENBLAS_NUM_THREADS": "1",
               "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))}
        cmd = [sys.executable, "-m", "jupyterlab", "--no-browser", f"--port={self.port}", "--ip=127.0.0.1",
               f"--ServerApp.token={self.token}", f"--ServerApp.root_dir={self.workdir}",
               "--ServerApp.port_retries=0", "--LabApp.expose_app_in_browser=True",
               "--LabApp.news_url=None", "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate"]
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            cmd.append("--allow-root")
        self.log = open(self.log_path, "w")  # noqa: SIM115 (closed in stop())
        self.process = subprocess.Popen(cmd, stdout=self.log, stderr=subprocess.STDOUT, env=env,
                                        cwd=self.workdir)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"jupyter lab exited ({self.process.returncode}):\n{self.log_text()[-3000:]}")
            try:
                with urllib.request.urlopen(f"{self.base}/api/status?token={self.token}", timeout=2) as reply:
                    if reply.status == 200:
                        return self
            except OSError:
                time.sleep(0.3)
        self.stop()
        raise RuntimeError(f"jupyter lab did not answer within {timeout:.0f} s:\n{self.log_text()[-3000:]}")

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def url(self, notebook: str, workspace: str) -> str:
        return f"{self.base}/lab/workspaces/{workspace}/tree/notebooks/{notebook}?reset&token={self.token}"

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)
        if getattr(self, "log", None):
            self.log.close()


# JavaScript run in the page (window.jupyterapp is there with --LabApp.expose_app_in_browser).
_JS_PANEL = """() => {
  const w = window.jupyterapp && window.jupyterapp.shell.currentWidget;
  return !!(w && w.sessionContext && w.content && w.context.isReady);
}"""
_JS_RUN_ALL = """async () => {
  const app = window.jupyterapp, panel = app.shell.currentWidget;
  await panel.sessionContext.ready;
  await app.commands.execute('notebook:run-all-cells');
  return true;
}"""
_JS_STATE = """() => {
  const panel = window.jupyterapp.shell.currentWidget;
  const kernel = panel.sessionContext.session && panel.sessionContext.session.kernel;
  const cells = [];
  const model = panel.content.model;
  for (let i = 0; i < model.cells.length; i++) {
    const cell = model.cells.get(i);
    if (cell.type !== 'code') continue;
    const outputs = [];
    for (let j = 0; j < cell.outputs.length; j++) outputs.push(cell.outputs.get(j).toJSON());
    cells.push({id: cell.id, count: cell.executionCount, outputs: outputs,
                source: cell.sharedModel.getSource().slice(0, 80)});
  }
  return {status: kernel ? kernel.status : 'none', pending: panel.content.widgets.filter(
            w => w.model.type === 'code' && w.promptNode && w.promptNode.textContent.includes('*')).length,
          cells: cells};
}"""
_JS_EXECUTE = """async (code) => {
  const kernel = window.jupyterapp.shell.currentWidget.sessionContext.session.kernel;
  let out = '';
  const future = kernel.requestExecute({code: code, silent: false, store_history: false});
  future.onIOPub = (msg) => {
    const t = msg.header.msg_type;
    if (t === 'stream') out += msg.content.text;
    if (t === 'error') out += 'KERNEL ERROR ' + msg.content.ename + ': ' + msg.content.evalue;
    if (t === 'execute_result') out += msg.content.data['text/plain'];
  };
  await future.done;
  return out;
}"""
_JS_WIDGET_OUTPUTS = """() => {
  const panel = window.jupyterapp.shell.currentWidget, found = [];
  const VIEW = 'application/vnd.jupyter.widget-view+json';
  for (const cell of panel.content.widgets) {
    if (cell.model.type !== 'code') continue;
    let expected = 0;
    for (let j = 0; j < cell.model.outputs.length; j++) {
      if (VIEW in (cell.model.outputs.get(j).toJSON().data || {})) expected += 1;
    }
    if (!expected) continue;
    const areas = Array.from(cell.node.querySelectorAll(
        '.jp-Cell-outputArea > .jp-OutputArea-child > .jp-OutputArea-output'));
    const rendered = areas.filter(n => n.querySelector(':scope > .jupyter-widgets')).length;
    const text = areas.map(n => n.innerText).join(' ');
    const broken = /Error displaying widget|Loading widget|model not found/.test(text);
    found.push({id: cell.model.id, expected: expected, rendered: rendered, broken: broken,
                classes: Array.from(cell.node.querySelectorAll('.tlkit-panel')).map(n => n.className),
                text: broken ? text.slice(0, 300) : ''});
  }
  return found;
}"""


class LabPage:
    """One notebook opened in JupyterLab in its own page (and its own workspace and kernel)."""

    def __init__(self, browser, server: LabServer, notebook: str, workspace: str,
                 viewport: tuple[int, int] = (1280, 900)) -> None:
        self.notebook = notebook
        self.page = browser.new_page(viewport={"width": viewport[0], "height": viewport[1]})
        self.page.set_default_timeout(60_000)
        self.console_errors: list[str] = []
        self.page.on("pageerror", lambda exc: self.console_errors.append(str(exc)))
        self.page.goto(server.url(notebook, workspace))
        self.page.wait_for_function(_JS_PANEL, timeout=90_000)

    def run_all(self, timeout: float = 240.0) -> float:
        """Run > Run All Cells, then wait until every code cell ran and the kernel is idle; the seconds it took."""
        start = time.monotonic()
        self.page.evaluate(_JS_RUN_ALL)
        deadline = start + timeout
        idle_since = None
        while time.monotonic() < deadline:
            state = self.state()
            ran = all(c["count"] is not None for c in state["cells"] if c["source"].strip())
            failed = any(o.get("output_type") == "error" for c in state["cells"] for o in c["outputs"])
            if state["status"] == "idle" and (ran or failed) and state["pending"] == 0:  # Run All stops at an error
                idle_since = idle_since or time.monotonic()
                if time.monotonic() - idle_since > 1.0:  # idle for a second: the widgets have rendered
                    RUN_ALL_SECONDS[self.notebook] = time.monotonic() - start
                    return RUN_ALL_SECONDS[self.notebook]
            else:
                idle_since = None
            time.sleep(0.25)
        raise TimeoutError(f"{self.notebook}: the kernel was not idle {timeout:.0f} s after Run All")

    def state(self) -> dict:
        return self.page.evaluate(_JS_STATE)

    def execute(self, code: str) -> str:
        """Run ``code`` in the notebook's kernel (not in a cell) and return what it printed."""
        out = self.page.evaluate(_JS_EXECUTE, code)
        if "KERNEL ERROR" in out:
            raise AssertionError(f"{self.notebook}: reading the kernel failed: {out}")
        return out

    def widget_outputs(self) -> list[dict]:
        return self.page.evaluate(_JS_WIDGET_OUTPUTS)

    def error_outputs(self) -> list[str]:
        errors = []
        for cell in self.state()["cells"]:
            for output in cell["outputs"]:
                if output.get("output_type") == "error":
                    errors.append(f"cell {cell['id']} ({cell['source']!r}): {output.get('ename')}: "
                                  f"{output.get('evalue')}")
        return errors

    def screenshot(self, path: Path, full_page: bool = True) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(path), full_page=full_page)
        return path

    def close(self) -> None:
        try:
            self.execute("import os as _os\n")  # a no-op to be sure the kernel answers before shutdown
        except Exception:  # noqa: BLE001 - closing a page that already failed
            pass
        self.page.evaluate("() => window.jupyterapp.shell.currentWidget.sessionContext.shutdown()")
        self.page.close()
