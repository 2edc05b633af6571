"""A read-only view of one snapshot, indexed once so that each check is a few dictionary look-ups."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from compliance.engine.core import DataUnavailable, MissingData, dig
from compliance.engine.policy import Policy

DEFAULT_DAEMON_JSON = "/etc/docker/daemon.json"

# dockerd's boolean flags take their value only as `--flag=false`; every other long option takes the next word too.
BOOL_FLAGS = frozenset(
    {
        "icc", "iptables", "ip6tables", "ip-forward", "ip-masq", "tls", "tlsverify", "live-restore", "userland-proxy",
        "no-new-privileges", "debug", "experimental", "selinux-enabled", "ipv6", "raw-logs", "rootless", "init",
        "validate", "help", "version", "userland-proxy-path-only",
    }
)  # fmt: skip
SHORT_FLAGS = {"D": "debug", "H": "host", "l": "log-level", "s": "storage-driver", "G": "group", "g": "data-root",
               "b": "bridge", "p": "pidfile", "v": "version", "h": "help"}  # fmt: skip
LONG_ALIASES = {"graph": "data-root"}
FALSE_WORDS = frozenset({"false", "0", "no", "off"})


def parse_dockerd_argv(argv: list[str]) -> dict[str, list[str]]:
    """dockerd's command line as {long option name: [values]}, in the order given; booleans as "true"/"false"."""
    opts: dict[str, list[str]] = {}
    i, n = 1, len(argv)
    while i < n:
        word = argv[i]
        i += 1
        if word == "--":
            break
        if word.startswith("--"):
            name, eq, value = word[2:].partition("=")
            name = LONG_ALIASES.get(name, name)
        elif word.startswith("-") and len(word) > 1:
            name = SHORT_FLAGS.get(word[1], word[1])
            rest = word[2:]
            eq, value = ("=", rest[1:]) if rest.startswith("=") else (("=", rest) if rest else ("", ""))
        else:
            continue
        if not eq:
            if name in BOOL_FLAGS:
                value = "true"
            elif i < n:
                value = argv[i]
                i += 1
        opts.setdefault(name, []).append(value)
    return opts


def is_false(value: Any) -> bool:
    return value is False or (isinstance(value, str) and value.strip().lower() in FALSE_WORDS)


def is_true(value: Any) -> bool:
    return value is True or (isinstance(value, str) and value.strip().lower() in {"true", "1", "yes", "on"})


class DaemonConfig:
    """dockerd's effective settings from its command line and its daemon.json (the one `--config-file` names)."""

    def __init__(self, dockerd: Any, errors: dict[str, str]) -> None:
        if not isinstance(dockerd, dict):
            raise MissingData("dockerd")
        argv = dockerd.get("argv")
        # `manage.py evaluate --daemon-json` knows daemon.json but not the command line dockerd was started with.
        self.argv_known = not dockerd.get("argv_unknown")
        if not argv and self.argv_known:
            raise DataUnavailable("no dockerd process was found (dockerd.argv is empty)", {"dockerd.argv": argv})
        self.argv: list[str] = argv or []
        self.opts = parse_dockerd_argv(self.argv)
        self.dockerd = dockerd
        self._errors = errors
        self._json: dict[str, Any] | None = None

    @property
    def config_file(self) -> str:
        given = self.opts.get("config-file")
        return given[-1] if given else (self.dockerd.get("config_file") or DEFAULT_DAEMON_JSON)

    @property
    def json(self) -> dict[str, Any]:
        if self._json is None:
            if "daemon_json" in self._errors:
                raise DataUnavailable(f"the agent could not read daemon.json: {self._errors['daemon_json']}")
            if "daemon_json" not in self.dockerd:
                raise MissingData("dockerd.daemon_json")
            doc = self.dockerd["daemon_json"] or {}
            if doc.get("parse_error"):
                raise DataUnavailable(
                    f"{self.config_file} could not be parsed: {doc['parse_error']}",
                    {"dockerd.daemon_json.parse_error": doc["parse_error"]},
                )
            raw = doc.get("raw")
            self._json = raw if isinstance(raw, dict) else {}
        return self._json

    def flag(self, name: str) -> list[str] | None:
        if not self.argv_known:
            raise DataUnavailable(f"the dockerd command line is unknown (--{name})", {f"dockerd.argv[--{name}]": "unknown"})
        return self.opts.get(name)

    def setting(self, name: str, key: str) -> tuple[Any, dict[str, Any]]:
        """The last command-line value of `--name`, else daemon.json's `key` (dockerd refuses both at once)."""
        values = self.opts.get(name)
        if values:
            return values[-1], {f"dockerd.argv[--{name}]": values[-1]}
        value = self.json.get(key)
        if key not in self.json and not self.argv_known:
            # dockerd refuses an option set in both places, so a key daemon.json sets is the effective value; one it
            # does not set may still be on the command line, which is unknown here.
            raise DataUnavailable(
                f"{self.config_file} does not set {key!r} and the dockerd command line is unknown (it may set --{name})",
                {f"dockerd.daemon_json.raw.{key}": None, f"dockerd.argv[--{name}]": "unknown"},
            )
        seen = {f"dockerd.argv[--{name}]": None if self.argv_known else "unknown", f"dockerd.daemon_json.raw.{key}": value}
        return value, seen

    def listing(self, name: str, key: str) -> tuple[list[Any], dict[str, Any]]:
        """Every value of a repeatable option, from both the command line and daemon.json."""
        if not self.argv_known:
            raise DataUnavailable(f"the dockerd command line is unknown: --{name} may add to {key!r} of daemon.json",
                                  {f"dockerd.argv[--{name}]": "unknown"})  # fmt: skip
        cli = self.opts.get(name) or []
        value = self.json.get(key)
        if value is None:
            from_json: list[Any] = []
        elif isinstance(value, list):
            from_json = value
        elif isinstance(value, dict):
            from_json = list(value.values())
        else:
            from_json = [value]
        return [*cli, *from_json], {f"dockerd.argv[--{name}]": cli or None, f"dockerd.daemon_json.raw.{key}": value}


class ContainerView:
    """One container's inspect output with the fields most checks read, looked up once."""

    __slots__ = ("inspect", "id", "name", "state", "running", "hc", "config", "top", "index")

    def __init__(self, item: dict[str, Any], index: int) -> None:
        inspect = item.get("inspect") if "inspect" in item else item
        self.inspect: dict[str, Any] = inspect
        self.index = index
        self.id: str = inspect.get("Id") or ""
        self.name: str = (inspect.get("Name") or self.id[:12]).lstrip("/")
        state = inspect.get("State")
        if isinstance(state, dict):
            self.state: str | None = state.get("Status")
            self.running = bool(state.get("Running"))
        else:
            self.state, self.running = None, False
        self.hc: dict[str, Any] | None = inspect.get("HostConfig")
        self.config: dict[str, Any] | None = inspect.get("Config")
        self.top: dict[str, Any] | None = item.get("top")

    def host(self, key: str) -> Any:
        """HostConfig.<key>; MissingData when HostConfig or the key is absent."""
        hc = self.hc
        if hc is None or key not in hc:
            raise MissingData(f"HostConfig.{key}")
        return hc[key]

    def get(self, path: str) -> Any:
        value = dig(self.inspect, path, _ABSENT)
        if value is _ABSENT:
            raise MissingData(path)
        return value


class ImageView:
    __slots__ = ("inspect", "history", "id", "name", "tags", "created")

    def __init__(self, item: dict[str, Any]) -> None:
        inspect = item.get("inspect") if "inspect" in item else item
        self.inspect: dict[str, Any] = inspect
        self.history: list[dict[str, Any]] | None = item.get("history")
        self.id: str = inspect.get("Id") or ""
        self.tags: list[str] = [t for t in inspect.get("RepoTags") or () if t and t != "<none>:<none>"]
        short = self.id.removeprefix("sha256:")[:12]
        self.name: str = self.tags[0] if self.tags else f"<none>@{short}"
        self.created: str = inspect.get("Created") or ""


_ABSENT = object()


def same_object(target: str, object_id: str) -> bool:
    """Whether an agent error's target names this object: its full id or a prefix of at least 12 characters."""
    a, b = target.removeprefix("sha256:"), object_id.removeprefix("sha256:")
    return bool(a and b) and (a == b or (len(a) >= 12 and b.startswith(a)) or (len(b) >= 12 and a.startswith(b)))


def normalise_image_ref(ref: str) -> str:
    """`busybox:1` -> `docker.io/library/busybox:1`; a name without a tag gets `:latest`; digests are kept."""
    name, at, digest = ref.partition("@")
    first, slash, rest = name.partition("/")
    if not slash:
        name = f"docker.io/library/{name}"
    elif not ("." in first or ":" in first or first == "localhost"):
        name = f"docker.io/{name}"
    if at:
        return f"{name}@{digest}"
    last = name.rsplit("/", 1)[-1]
    return name if ":" in last else f"{name}:latest"


class Context:
    """Everything the checks read from one snapshot, plus the site policy."""

    def __init__(self, snapshot: dict[str, Any], policy: Policy) -> None:
        self.snapshot = snapshot
        self.policy = policy
        agent = snapshot.get("agent") if isinstance(snapshot.get("agent"), dict) else {}
        errors: dict[str, str] = {}
        # Entries naming a `target` (a container or image id) say only that one object could not be read.
        target_errors: dict[str, dict[str, str]] = {}
        for item in agent.get("errors") or ():
            if isinstance(item, dict) and item.get("collector"):
                name, message = str(item["collector"]), str(item.get("error"))
                target = item.get("target")
                table = target_errors.setdefault(name, {}) if target else errors
                key = str(target) if target else name
                table[key] = f"{table[key]}; {message}" if key in table else message
        self.errors = errors
        self.target_errors = target_errors
        self.agent = agent
        self.host: dict[str, Any] | None = snapshot.get("host")
        docker = snapshot.get("docker")
        self.docker: dict[str, Any] = docker if isinstance(docker, dict) else {}
        self.info: dict[str, Any] | None = self.docker.get("info")
        containers = self.docker.get("containers")
        self.containers: list[ContainerView] | None = (
            None if containers is None else [ContainerView(c, i) for i, c in enumerate(containers)]
        )
        images = self.docker.get("images")
        self.images: list[ImageView] | None = None if images is None else [ImageView(i) for i in images]
        # Per-snapshot memo for derived tables that more than one check reads (audit watches, docker0 networks).
        self.cache: dict[str, Any] = {}
        self._daemon: DaemonConfig | DataUnavailable | None = None
        self._files: dict[str, dict[str, Any]] | None = None
        self._tags: dict[str, ImageView] | None = None
        self._image_ids: dict[str, ImageView] | None = None

    # -- gates -------------------------------------------------------------------------------------------------
    def gate(self, collectors: tuple[str, ...]) -> str | None:
        """Why the named collectors' data is unusable (the agent reported an error), or None."""
        errors = self.errors
        if not errors:
            return None
        failed = [f"{name}: {errors[name]}" for name in collectors if name in errors]
        return f"the agent could not read {'; '.join(failed)}" if failed else None

    def target_gate(self, collectors: tuple[str, ...], target_id: str) -> str | None:
        """Why the named collectors' data for one container or image is unusable (a targeted agent error), or None."""
        if not self.target_errors or not target_id:
            return None
        failed = [
            f"{name} for {target}: {message}"
            for name in collectors
            for target, message in self.target_errors.get(name, {}).items()
            if same_object(target, target_id)
        ]
        return f"the agent could not read {'; '.join(failed)}" if failed else None

    def unreadable(self, collector: str) -> list[str]:
        """The ids of the objects the agent reported it could not read from `collector` (targeted errors)."""
        return sorted(self.target_errors.get(collector, {}))

    # -- dockerd -----------------------------------------------------------------------------------------------
    def daemon(self) -> DaemonConfig:
        if self._daemon is None:
            try:
                self._daemon = DaemonConfig(self.snapshot.get("dockerd"), self.errors)
            except DataUnavailable as exc:
                self._daemon = exc
        if isinstance(self._daemon, DataUnavailable):
            raise self._daemon
        return self._daemon

    # -- docker API objects ------------------------------------------------------------------------------------
    def need_info(self, path: str) -> Any:
        if self.info is None:
            raise MissingData("docker.info")
        value = dig(self.info, path, _ABSENT)
        if value is _ABSENT:
            raise MissingData(f"docker.info.{path}")
        return value

    def security_options(self) -> list[str]:
        return [str(o) for o in self.need_info("SecurityOptions") or ()]

    def swarm_active(self) -> bool:
        """Whether swarm mode is active; DataUnavailable when the snapshot cannot say."""
        if "docker.swarm" in self.errors and "docker.info" in self.errors:
            raise DataUnavailable(f"the agent could not read docker.swarm: {self.errors['docker.swarm']}")
        state = dig(self.info, "Swarm.LocalNodeState")
        if state:
            return state in ("active", "locked")
        if "swarm" in self.docker and "docker.swarm" not in self.errors:
            return self.docker["swarm"] is not None
        raise MissingData("docker.info.Swarm.LocalNodeState")

    def images_by_tag(self) -> dict[str, ImageView]:
        if self._tags is None:
            self._tags = {}
            for image in self.images or ():
                for tag in image.tags:
                    self._tags[tag] = image
                    self._tags[normalise_image_ref(tag)] = image
        return self._tags

    def images_by_id(self) -> dict[str, ImageView]:
        if self._image_ids is None:
            self._image_ids = {image.id: image for image in self.images or ()}
        return self._image_ids

    @property
    def is_podman(self) -> bool:
        """Podman writes its engine defaults (containers.conf) into each container's configuration at creation."""
        version = self.docker.get("version")
        for component in (version.get("Components") or ()) if isinstance(version, dict) else ():
            if isinstance(component, dict) and "podman" in str(component.get("Name", "")).lower():
                return True
        return isinstance(self.info, dict) and "BuildahVersion" in self.info

    # -- host ----------------------------------------------------------------------------------------------------
    def need_host(self, path: str) -> Any:
        if not isinstance(self.host, dict):
            raise MissingData("host")
        value = dig(self.host, path, _ABSENT)
        if value is _ABSENT:
            raise MissingData(f"host.{path}")
        return value

    def files(self) -> dict[str, dict[str, Any]]:
        if self._files is None:
            items = self.snapshot.get("files")
            if items is None:
                raise MissingData("files")
            self._files = {f["path"]: f for f in items if isinstance(f, dict) and f.get("path")}
        return self._files

    def file(self, *paths: str) -> dict[str, Any] | None:
        """The stat entry of the first of `paths` the agent reported (aliases such as /run vs /var/run)."""
        files = self.files()
        for path in paths:
            entry = files.get(path)
            if entry is not None:
                return entry
        return None

    def today(self) -> date:
        collected = self.agent.get("collected_at")
        if isinstance(collected, str):
            try:
                return datetime.fromisoformat(collected.replace("Z", "+00:00")).date()
            except ValueError:
                pass
        return datetime.now(UTC).date()
