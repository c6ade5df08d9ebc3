"""A minimal LSP client for the real YAML language server, spoken to over stdio as an editor does.

The server is npm's ``yaml-language-server`` (the engine of VS Code's YAML extension), pinned by
tests/lsp/package.json and package-lock.json; ``make test`` installs it into .tools/node_modules.
``find_server()`` returns None when it (or Node) is absent, so the tests can skip.

Messages are JSON-RPC with ``Content-Length`` headers. A reader thread files every message:
responses by request id, published diagnostics by document URI; requests from the server
(configuration, capability registration, progress) get an empty answer so it never waits.
"""

from __future__ import annotations

import json
import queue
import shutil
import subprocess
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SERVER = ROOT / ".tools" / "node_modules" / ".bin" / "yaml-language-server"
TIMEOUT = 60.0

#: What an editor sends: validation, hover and completion on; no schema store (no network).
SETTINGS = {
    "yaml": {
        "validate": True, "hover": True, "completion": True, "format": {"enable": False},
        "schemaStore": {"enable": False}, "schemas": {}, "yamlVersion": "1.2",
    },
}


def find_server() -> Path | None:
    """The installed server, or None where it or Node is missing."""
    if SERVER.exists() and shutil.which("node"):
        return SERVER
    return None


@dataclass(frozen=True, order=True)
class Problem:
    """One diagnostic the server published: 1-based line and column, as mastery prints them."""

    line: int
    column: int
    message: str


class YamlLanguageServer:
    """One running server; use as a context manager."""

    def __init__(self, server: Path, root: Path) -> None:
        self._process = subprocess.Popen(
            [str(server), "--stdio"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL, cwd=root,
        )
        self._next_id = 0
        self._responses: dict[int, queue.Queue[Any]] = {}
        self._diagnostics: dict[str, queue.Queue[list[Any]]] = {}
        self._lock = threading.Lock()
        self._versions: dict[str, int] = {}
        self._settings: dict[str, Any] = json.loads(json.dumps(SETTINGS))
        self._configured = threading.Event()
        threading.Thread(target=self._read_forever, daemon=True).start()
        self.request("initialize", {
            "processId": None, "rootUri": root.as_uri(),
            "workspaceFolders": [{"uri": root.as_uri(), "name": root.name}],
            "capabilities": {"textDocument": {
                "hover": {"contentFormat": ["plaintext", "markdown"]},
                "completion": {"completionItem": {"snippetSupport": False}},
                "publishDiagnostics": {},
            }},
            "initializationOptions": {},
        })
        self.notify("initialized", {})
        self.notify("workspace/didChangeConfiguration", {"settings": self._settings})

    def __enter__(self) -> YamlLanguageServer:
        return self

    def __exit__(self, *exc: object) -> None:
        try:
            self.request("shutdown", None, timeout=10)
            self.notify("exit", None)
            self._process.wait(timeout=10)
        except Exception:
            self._process.kill()
            self._process.wait()

    # -- JSON-RPC ---------------------------------------------------------------------------

    def _send(self, message: dict[str, Any]) -> None:
        body = json.dumps({"jsonrpc": "2.0", **message}).encode("utf-8")
        assert self._process.stdin is not None
        self._process.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
        self._process.stdin.flush()

    def _read_forever(self) -> None:
        stream = self._process.stdout
        assert stream is not None
        while True:
            length = 0
            while True:
                line = stream.readline()
                if not line:
                    return
                if line in (b"\r\n", b"\n"):
                    break
                name, _, value = line.decode("ascii").partition(":")
                if name.lower() == "content-length":
                    length = int(value.strip())
            self._dispatch(json.loads(stream.read(length)))

    def _dispatch(self, message: dict[str, Any]) -> None:
        if "id" in message and "method" in message:  # a request from the server
            method = message["method"]
            result: Any = None
            if method == "workspace/configuration":
                result = [self._settings.get(item.get("section", ""))
                          for item in message["params"]["items"]]
            self._send({"id": message["id"], "result": result})
            if method == "workspace/configuration":
                self._configured.set()
        elif "id" in message:
            self._queue_for_response(message["id"]).put(message)
        elif message.get("method") == "textDocument/publishDiagnostics":
            params = message["params"]
            self._queue_for_diagnostics(params["uri"]).put(params["diagnostics"])

    def _queue_for_response(self, ident: int) -> queue.Queue[Any]:
        with self._lock:
            return self._responses.setdefault(ident, queue.Queue())

    def _queue_for_diagnostics(self, uri: str) -> queue.Queue[list[Any]]:
        with self._lock:
            return self._diagnostics.setdefault(uri, queue.Queue())

    def request(self, method: str, params: Any, timeout: float = TIMEOUT) -> Any:
        self._next_id += 1
        ident = self._next_id
        self._send({"id": ident, "method": method, "params": params})
        response = self._queue_for_response(ident).get(timeout=timeout)
        if "error" in response:
            raise RuntimeError(f"{method}: {response['error']}")
        return response.get("result")

    def notify(self, method: str, params: Any) -> None:
        self._send({"method": method, "params": params})

    # -- what an editor does ----------------------------------------------------------------

    def associate(self, schemas: dict[Path, list[Path]]) -> None:
        """Check these files against these schemas, as an editor's ``yaml.schemas`` setting."""
        self._settings["yaml"]["schemas"] = {
            schema.resolve().as_uri(): [str(file.resolve()) for file in files]
            for schema, files in schemas.items()
        }
        # The server answers this by asking for the settings (workspace/configuration); files
        # opened before it has them would be checked without the schemas.
        self._configured.clear()
        self.notify("workspace/didChangeConfiguration", {"settings": self._settings})
        if not self._configured.wait(TIMEOUT):
            raise TimeoutError("the server did not ask for its settings")

    def open(self, path: Path, text: str | None = None) -> list[Problem]:
        """Open ``path`` (with ``text`` instead of its content if given); its problems."""
        uri = path.resolve().as_uri()
        content = path.read_text(encoding="utf-8") if text is None else text
        self._versions[uri] = self._versions.get(uri, 0) + 1
        if self._versions[uri] == 1:
            self.notify("textDocument/didOpen", {"textDocument": {
                "uri": uri, "languageId": "yaml", "version": 1, "text": content}})
        else:
            self.notify("textDocument/didChange", {
                "textDocument": {"uri": uri, "version": self._versions[uri]},
                "contentChanges": [{"text": content}]})
        published = self._queue_for_diagnostics(uri).get(timeout=TIMEOUT)
        return sorted(
            Problem(d["range"]["start"]["line"] + 1, d["range"]["start"]["character"] + 1,
                    d["message"])
            for d in published
        )

    def hover(self, path: Path, line: int, column: int) -> str:
        """The hover text at 1-based ``line`` and ``column`` of an open document."""
        result = self.request("textDocument/hover", {
            "textDocument": {"uri": path.resolve().as_uri()},
            "position": {"line": line - 1, "character": column - 1},
        })
        if not result:
            return ""
        contents = result["contents"]
        return contents["value"] if isinstance(contents, dict) else str(contents)

    def complete(self, path: Path, line: int, column: int) -> list[dict[str, Any]]:
        """The completion items at 1-based ``line`` and ``column`` of an open document."""
        result = self.request("textDocument/completion", {
            "textDocument": {"uri": path.resolve().as_uri()},
            "position": {"line": line - 1, "character": column - 1},
        })
        items = result.get("items", []) if isinstance(result, dict) else (result or [])
        return list(items)
