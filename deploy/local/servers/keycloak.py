"""Keycloak, the OpenID Connect provider, as a local process: the distribution fetched once from Maven Central
(`org.keycloak:keycloak-quarkus-dist`, zip) into the git-ignored cache, run in development mode on loopback
with Java 21 or later, the `guichet` realm imported from the repository at every start.

Its store is `dev-mem` (in memory): every start is the realm of `deploy/local/keycloak/guichet-realm.json`,
its demo accounts and clients, nothing left over from an earlier run. Production runs Keycloak (or the
city's own provider) with PostgreSQL (docs/deploy.md#identity-provider).
"""
from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
import urllib.request
import zipfile
from pathlib import Path

from deploy.local.servers.base import LOOPBACK, REPO, LocalServer, ServerStartError, require_program

KEYCLOAK_VERSION = "26.7.3"
DEFAULT_KEYCLOAK_CACHE = REPO / ".cache" / "keycloak"
REALM_FILE = REPO / "deploy" / "local" / "keycloak" / "guichet-realm.json"
REALM = "guichet"
# Local only: the master realm's administrator (the tests create accounts and rotate keys with it).
ADMIN_USERNAME = "admin"
ADMIN_PASSWORD = "guichet-local-admin"
JAVA_HOMES = (Path("/usr/lib/jvm/temurin-25-jdk-amd64"),)
MINIMUM_JAVA = 21
JVM_MEMORY = "-Xms128m -Xmx512m"


def ensure_keycloak(cache_dir: Path = DEFAULT_KEYCLOAK_CACHE) -> Path:
    """The unpacked distribution's home folder, fetched from Maven Central with `mvn` on first use."""
    cache_dir = Path(cache_dir).resolve()
    home = cache_dir / f"keycloak-{KEYCLOAK_VERSION}"
    cache_dir.mkdir(parents=True, exist_ok=True)
    with open(cache_dir / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # two starters at once fetch and unpack once
        if (home / "bin" / "kc.sh").exists():
            return home
        archive = cache_dir / "download" / f"keycloak-quarkus-dist-{KEYCLOAK_VERSION}.zip"
        if not archive.exists():
            require_program("mvn", "Maven fetches Keycloak's distribution")
            fetch = subprocess.run(["mvn", "-q", "-B", "dependency:copy",
                                    f"-Dartifact=org.keycloak:keycloak-quarkus-dist:{KEYCLOAK_VERSION}:zip",
                                    f"-DoutputDirectory={archive.parent}"],
                                   stdin=subprocess.DEVNULL, capture_output=True, text=True)
            if fetch.returncode != 0:
                raise ServerStartError(f"fetching Keycloak with Maven failed (exit {fetch.returncode}):\n"
                                       f"{fetch.stdout[-3000:]}{fetch.stderr[-3000:]}")
        partial = cache_dir / "unpacking"
        shutil.rmtree(partial, ignore_errors=True)
        with zipfile.ZipFile(archive) as unzipped:
            unzipped.extractall(partial)
        for script in (partial / home.name / "bin").glob("*.sh"):  # zipfile drops the executable bits
            script.chmod(0o755)
        (partial / home.name).rename(home)
        partial.rmdir()
    return home


def java_home() -> Path:
    """A Java of version 21 or later (Keycloak 26's minimum), apart from the machine's default Java 17."""
    candidates = [Path(os.environ["KEYCLOAK_JAVA_HOME"])] if os.environ.get("KEYCLOAK_JAVA_HOME") else []
    candidates += list(JAVA_HOMES)
    jvm = Path("/usr/lib/jvm")
    if jvm.is_dir():
        candidates += sorted(jvm.iterdir(), reverse=True)
    for home in candidates:
        if (home / "bin" / "java").exists() and _java_version(home) >= MINIMUM_JAVA:
            return home
    raise ServerStartError(f"Keycloak {KEYCLOAK_VERSION} needs Java {MINIMUM_JAVA} or later and none was found "
                           "under /usr/lib/jvm: install one (e.g. temurin-25-jdk) or name it in KEYCLOAK_JAVA_HOME")


def _java_version(home: Path) -> int:
    release = home / "release"
    if not release.exists():
        return 0
    for line in release.read_text().splitlines():
        if line.startswith("JAVA_VERSION="):
            try:
                return int(line.split("=", 1)[1].strip('"').split(".")[0])
            except ValueError:
                return 0
    return 0


class KeycloakServer(LocalServer):
    """Keycloak in development mode (`start-dev`), its realm imported from the repository."""

    name = "keycloak"

    def __init__(self, base_dir: Path, port: int = 18080, management_port: int = 19000,
                 cache_dir: Path | None = None) -> None:
        super().__init__(base_dir)
        self.port = port
        self.management_port = management_port
        self.cache_dir = Path(cache_dir or DEFAULT_KEYCLOAK_CACHE).resolve()

    @property
    def url(self) -> str:
        return f"http://{LOOPBACK}:{self.port}"

    @property
    def issuer(self) -> str:
        return f"{self.url}/realms/{REALM}"

    @property
    def address(self) -> str:
        return self.issuer

    @property
    def ports(self) -> tuple[int, ...]:
        return self.port, self.management_port

    @property
    def _home(self) -> Path:
        return self.cache_dir / f"keycloak-{KEYCLOAK_VERSION}"

    def start(self, timeout: float = 240) -> None:
        # The first start on a fresh unpack builds the server (about 75 s on two cores); later ones take ~11 s.
        super().start(timeout)

    def _prepare(self) -> None:
        home = ensure_keycloak(self.cache_dir)
        self._java_home = java_home()
        imports = home / "data" / "import"
        imports.mkdir(parents=True, exist_ok=True)
        # The one realm file, from the repository: every Keycloak started from this cache imports the same.
        shutil.copyfile(REALM_FILE, imports / REALM_FILE.name)

    def _command(self) -> list[str]:
        return ["env", f"JAVA_HOME={self._java_home}", f"JAVA_OPTS_KC_HEAP={JVM_MEMORY}",
                f"KC_BOOTSTRAP_ADMIN_USERNAME={ADMIN_USERNAME}", f"KC_BOOTSTRAP_ADMIN_PASSWORD={ADMIN_PASSWORD}",
                str(self._home / "bin" / "kc.sh"), "start-dev", "--db=dev-mem", "--import-realm",
                f"--http-host={LOOPBACK}", f"--http-port={self.port}",
                f"--http-management-port={self.management_port}", "--log-level=WARN,org.keycloak.services:INFO"]

    def _check_ready(self) -> None:
        with urllib.request.urlopen(f"{self.issuer}/.well-known/openid-configuration", timeout=2) as answer:
            if answer.status != 200:
                raise RuntimeError(f"discovery answered {answer.status}")
