"""A private Request Tracker 5 on 127.0.0.1 for the integration tests: install, start, token, stop.

Facts behind each step: ../shared/reference/request-tracker.md. Standard library only, so CI can run
``python3 tests/integration/rt_server.py install`` before the project's virtualenv exists, and a developer can run
``python3 tests/integration/rt_server.py up DIR`` to get an RT to point shiftboard at by hand.

An instance lives entirely in its own folder (site config, SQLite DB, server log, PID file); RT reads nothing from
/etc/request-tracker5 because RT_SITE_CONFIG and RT_SITE_CONFIG_DIR point into that folder.
"""

from __future__ import annotations

import base64
import contextlib
import email.utils
import json
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

RT_SERVER = Path("/usr/share/request-tracker5/libexec/rt-server")
RT_LIB = Path("/usr/share/request-tracker5/lib")
SETUP_DATABASE = Path("/usr/sbin/rt-setup-database-5")
PACKAGES = ("request-tracker5", "rt5-db-sqlite", "dma")
#: debconf answers for a prompt-free install that creates no system DB (skip-preseed makes dbconfig-install stick).
PRESEED = """\
request-tracker5 request-tracker5/rtname string rt.test
request-tracker5 request-tracker5/organization string rt.test
request-tracker5 request-tracker5/correspondaddress string rt@rt.test
request-tracker5 request-tracker5/commentaddress string rt-comment@rt.test
request-tracker5 request-tracker5/webbaseurl string http://127.0.0.1
request-tracker5 request-tracker5/handle-siteconfig-permissions boolean true
request-tracker5 request-tracker5/install-cronjobs boolean false
request-tracker5 request-tracker5/dbconfig-install boolean false
request-tracker5 request-tracker5/internal/skip-preseed boolean true
request-tracker5 request-tracker5/database-type select sqlite3
dma dma/mailname string rt.test
dma dma/relayhost string
"""
ROOT_PASSWORD = "password"

_TOKEN_SCRIPT = r"""
use strict; use warnings;
use lib '/usr/share/request-tracker5/lib';
use RT; RT::LoadConfig(); RT::Init();
my $user = RT::User->new(RT->SystemUser); $user->Load($ARGV[0]) or die "no user $ARGV[0]\n";
my ($id, $msg, $auth) = RT::AuthToken->new(RT::CurrentUser->new($user))->Create(
    Owner => $user->Id, Description => 'shiftboard tests');
die "token: $msg\n" unless $id;
print $auth;
"""


class RTRequestError(Exception):
    """REST2 answered an error status while a test set up its data."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


class RTUnavailable(Exception):
    """RT is not installed here and cannot be installed (not root, or apt failed); the message says which."""


def log(message: str) -> None:
    print(f"rt_server: {message}", file=sys.stderr, flush=True)


def installed() -> bool:
    """True when rt-server is present and dpkg reports RT's packages as installed."""
    if not os.access(RT_SERVER, os.X_OK):
        return False
    result = subprocess.run(
        ["dpkg-query", "-W", "-f", "${db:Status-Status} ", *PACKAGES[:2]],
        capture_output=True,
        text=True,
        check=False,
    )
    return result.returncode == 0 and result.stdout.split() == ["installed", "installed"]


def install() -> None:
    """Install RT from Debian (root only): preseed debconf, apt-get update, install. Does nothing when installed."""
    if installed():
        return
    if os.geteuid() != 0:
        raise RTUnavailable("Request Tracker 5 is not installed and installing it needs root (apt-get)")
    if shutil.which("apt-get") is None:
        raise RTUnavailable("Request Tracker 5 is not installed and this machine has no apt-get")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    steps = [
        (["debconf-set-selections"], PRESEED),
        (["apt-get", "update", "-q"], None),
        (["apt-get", "install", "-y", "-q", "--no-install-recommends", *PACKAGES], None),
    ]
    for command, stdin in steps:
        log("running " + " ".join(command))
        result = subprocess.run(command, input=stdin, env=env, capture_output=True, text=True, check=False)
        if result.returncode != 0:
            tail = "\n".join((result.stdout + result.stderr).splitlines()[-15:])
            raise RTUnavailable(f"{' '.join(command)} failed ({result.returncode}):\n{tail}")
    if not installed():
        raise RTUnavailable("apt-get reported success but request-tracker5 is still not installed")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(condition: Callable[[], bool], timeout_s: float, what: str, interval_s: float = 0.1) -> None:
    """Poll ``condition`` until it holds or ``timeout_s`` passes (then TimeoutError naming ``what``)."""
    deadline = time.monotonic() + timeout_s
    while True:
        if condition():
            return
        if time.monotonic() >= deadline:
            raise TimeoutError(f"gave up after {timeout_s:g} s waiting for {what}")
        time.sleep(interval_s)


def _site_config(folder: Path, port: int) -> str:
    settings = {
        "WebDomain": "'127.0.0.1'",
        "WebPort": str(port),
        "WebPath": "''",
        "WebBaseURL": f"'http://127.0.0.1:{port}'",
        "DatabaseType": "'SQLite'",
        "DatabaseName": repr(str(folder / "rtdb")),
        # Cost 12 (the default) makes every basic/token-auth request take ~0.3 s; must be set before the DB exists.
        "BcryptCost": "4",
        "MailCommand": "'mbox'",
        "LogToSyslog": "undef",
        "LogToSTDERR": "'error'",
        "Timezone": "'UTC'",
        "rtname": "'rt.test'",
        "Organization": "'rt.test'",
        "CorrespondAddress": "'rt\\@rt.test'",
        "CommentAddress": "'rt-comment\\@rt.test'",
    }
    return "".join(f"Set(${name}, {value});\n" for name, value in settings.items()) + "1;\n"


@dataclass
class RTInstance:
    """One RT server in ``folder`` on 127.0.0.1:``port``. ``start()`` then ``stop()``; the DB survives a stop."""

    folder: Path
    port: int = field(default_factory=free_port)
    workers: int = 2
    quiet: bool = True
    process: subprocess.Popen | None = None
    token: str | None = None
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def url(self) -> str:
        """The base URL shiftboard's ``url`` key takes (REST2 lives under it)."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def rest(self) -> str:
        return f"{self.url}/REST/2.0"

    @property
    def env(self) -> dict[str, str]:
        return {
            **os.environ,
            "RT_SITE_CONFIG": str(self.folder / "RT_SiteConfig.pm"),
            "RT_SITE_CONFIG_DIR": str(self.folder / "RT_SiteConfig.d"),
        }

    @property
    def log_path(self) -> Path:
        return self.folder / "server.log"

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no server log)"

    def _write_config(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        (self.folder / "RT_SiteConfig.d").mkdir(exist_ok=True)
        (self.folder / "RT_SiteConfig.pm").write_text(_site_config(self.folder, self.port))

    def _init_database(self) -> None:
        database = self.folder / "rtdb"
        if database.exists() and database.stat().st_size > 0:
            return
        password_file = self.folder / "rootpw"
        password_file.write_text(ROOT_PASSWORD)
        password_file.chmod(0o600)
        started = time.monotonic()
        result = subprocess.run(
            [str(SETUP_DATABASE), "--action", "init", "--root-password-file", str(password_file)],
            env=self.env,
            capture_output=True,
            text=True,
            check=False,
        )
        password_file.unlink()
        if result.returncode != 0:
            database.unlink(missing_ok=True)
            tail = "\n".join((result.stdout + result.stderr).splitlines()[-20:])
            raise RuntimeError(f"rt-setup-database failed ({result.returncode}):\n{tail}")
        if self.quiet:
            # Notification and autoreply scrips only write mail to an mbox; without them creation is ~3x faster.
            with sqlite3.connect(database) as conn:
                conn.execute(
                    "UPDATE Scrips SET Disabled = 1 WHERE Description LIKE '%Notify%' OR Description LIKE '%Autoreply%'"
                )
        self.timings["init_db_s"] = time.monotonic() - started

    def start(self, timeout_s: float = 60.0) -> RTInstance:
        """Write the config, create the DB once, start rt-server detached and wait until REST2 answers."""
        if _port_answers(self.port):
            raise RuntimeError(f"127.0.0.1:{self.port} is already in use")
        started = time.monotonic()
        self._write_config()
        self._init_database()
        with self.log_path.open("ab") as output:
            self.process = subprocess.Popen(
                [str(RT_SERVER), "--host", "127.0.0.1", "--port", str(self.port), "--max-workers", str(self.workers)],
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=output,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # own process group, so stop() can reach the workers too
                cwd=self.folder,
            )
        (self.folder / "rt.pid").write_text(str(self.process.pid))

        def ready() -> bool:
            if self.process is not None and self.process.poll() is not None:
                raise RuntimeError(f"rt-server exited with {self.process.returncode}:\n{self.log_tail()}")
            try:
                self.request("GET", "/queues/all", auth=("root", ROOT_PASSWORD), timeout=2)
            except (OSError, urllib.error.URLError, RTRequestError):
                return False
            return True

        try:
            wait_for(ready, timeout_s, f"REST2 on {self.rest}", interval_s=0.25)
        except BaseException:
            self.stop()
            raise
        self.timings["start_s"] = time.monotonic() - started
        return self

    def create_token(self, user: str = "root") -> str:
        """A new auth token for ``user``, made with RT's Perl API (REST2 has no endpoint for it)."""
        result = subprocess.run(
            ["perl", "-e", _TOKEN_SCRIPT, user], env=self.env, capture_output=True, text=True, check=False
        )
        if result.returncode != 0 or not result.stdout.strip():
            raise RuntimeError(f"could not create an auth token: {result.stderr.strip()[-500:]}")
        self.token = result.stdout.strip()
        return self.token

    def stop(self, timeout_s: float = 15.0) -> None:
        """SIGTERM the server (it stops its workers), wait; SIGKILL its whole process group if anything lingers."""
        process = self.process
        if process is None:
            return
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout_s)
        # The server was started as its own session leader, so its PID is also its process group's id.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        self.process = None
        (self.folder / "rt.pid").unlink(missing_ok=True)

    # -- a small REST2 client for setting up test data ------------------------------------------------------

    def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        auth: tuple[str, str] | None = None,
        timeout: float = 30,
    ) -> Any:
        """Call REST2 (as root with the token, or with ``auth``) and return the decoded JSON body."""
        url = path if path.startswith("http") else self.rest + path
        headers = {"Accept": "application/json"}
        if auth is not None:
            headers["Authorization"] = "Basic " + base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode()
        elif self.token is not None:
            headers["Authorization"] = f"token {self.token}"
        else:
            headers["Authorization"] = "Basic " + base64.b64encode(f"root:{ROOT_PASSWORD}".encode()).decode()
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        req = urllib.request.Request(url, data=data, method=method, headers=headers)
        try:
            with urllib.request.urlopen(req, timeout=timeout) as response:
                payload = response.read()
        except urllib.error.HTTPError as error:
            detail = error.read()[:300].decode(errors="replace")
            raise RTRequestError(f"{method} {path}: {error.code} {detail}", error.code) from None
        return json.loads(payload) if payload else None

    def create_queue(self, name: str) -> str:
        return str(self.request("POST", "/queue", {"Name": name})["id"])

    def create_ticket(self, **fields: Any) -> str:
        """Create a ticket (root may back-date Created, Started and Resolved); returns its id."""
        return str(self.request("POST", "/ticket", fields)["id"])

    def update(self, ticket: str, **fields: Any) -> list[str]:
        """PUT fields; RT answers 200 even when it refuses a change, so its messages are checked here."""
        messages = self.request("PUT", f"/ticket/{ticket}", fields)
        refused = [m for m in messages if "isn't a valid" in m or "Permission denied" in m or "not allowed" in m]
        if refused:
            raise RuntimeError(f"RT refused the update of ticket {ticket}: {refused}")
        return messages

    def correspond(self, ticket: str, text: str, **fields: Any) -> None:
        self.request("POST", f"/ticket/{ticket}/correspond", {"Content": text, "ContentType": "text/plain", **fields})

    def comment(self, ticket: str, text: str) -> None:
        self.request("POST", f"/ticket/{ticket}/comment", {"Content": text, "ContentType": "text/plain"})

    def server_time(self) -> float:
        """RT's clock (whole seconds) from a response's Date header."""
        req = urllib.request.Request(self.rest + "/rt", headers={"Authorization": f"token {self.token}"})
        with urllib.request.urlopen(req, timeout=10) as response:
            return email.utils.parsedate_to_datetime(response.headers["Date"]).timestamp()

    def wait_until_quiet(self, seconds: float = 2.0) -> None:
        """Wait until RT's clock is ``seconds`` past now, so every change so far is at least that old."""
        target = self.server_time() + seconds
        wait_for(lambda: self.server_time() >= target, seconds + 10, "RT's clock to move on", interval_s=0.2)

    def ticket(self, ticket: str) -> dict[str, Any]:
        return self.request("GET", f"/ticket/{ticket}")


def _port_answers(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def main(argv: list[str]) -> int:
    """``install`` | ``up DIR [PORT]`` (prints the URL and a token; Ctrl+C stops it)."""
    if not argv or argv[0] not in ("install", "up"):
        print(__doc__, file=sys.stderr)
        print("usage: rt_server.py install | up DIR [PORT]", file=sys.stderr)
        return 2
    try:
        install()
    except RTUnavailable as error:
        log(str(error))
        return 1
    if argv[0] == "install":
        log("Request Tracker 5 is installed")
        return 0
    folder = Path(argv[1]).resolve()
    instance = RTInstance(folder, port=int(argv[2]) if len(argv) > 2 else free_port())
    instance.start()
    token = instance.create_token()
    print(f"url = {instance.url}")
    print(f"RT_TOKEN={token}")
    sys.stdout.flush()
    log(f"running (pid {instance.process.pid if instance.process else '?'}); Ctrl+C stops it")
    try:
        signal.sigwait({signal.SIGINT, signal.SIGTERM})
    finally:
        instance.stop()
    return 0


if __name__ == "__main__":
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})
    sys.exit(main(sys.argv[1:]))
