"""Section 4: container images and build files, judged from image inspect output and image history."""

from __future__ import annotations

import re
from typing import Any

from compliance.engine.context import ContainerView, Context, ImageView, normalise_image_ref
from compliance.engine.core import FAIL, MANUAL, PASS, Check, Kind, MissingData, Scope, Verdict

HOST, CONTAINER, IMAGE = Scope.HOST, Scope.CONTAINER, Scope.IMAGE
AUTO, POLICY, MAN = Kind.AUTOMATED, Kind.POLICY, Kind.MANUAL
IMAGES = ("docker.images",)

ROOT_USERS = frozenset({"", "0", "root"})


def check_user(ctx: Context, c: ContainerView) -> Verdict:
    user = c.get("Config.User")
    evidence = {"Config.User": user}
    name = str(user or "").split(":", 1)[0].strip()
    if name in ROOT_USERS:
        return FAIL, "the container runs as root" + ("" if user else " (no user set)"), evidence
    return PASS, f"the container runs as user {user}", evidence


def image_names(image: ImageView) -> list[str]:
    names = [normalise_image_ref(t) for t in image.tags]
    for digest in image.inspect.get("RepoDigests") or ():
        names.append(normalise_image_ref(str(digest)))
    return names


def _trusted(name: str, trusted: tuple[str, ...]) -> bool:
    lowered = name.lower()
    return any(lowered == t or lowered.startswith((t + "/", t + ":", t + "@")) for t in trusted)


def check_trusted_registry(ctx: Context, image: ImageView) -> Verdict:
    names = image_names(image)
    evidence: dict[str, Any] = {"RepoTags": image.tags, "RepoDigests": image.inspect.get("RepoDigests") or []}
    trusted = ctx.policy.trusted_registries
    if not names:
        return MANUAL, "the image has no name: trace its origin by hand", evidence
    if trusted is None:
        return MANUAL, f"confirm {', '.join(sorted(set(names)))} comes from a trusted registry", evidence
    evidence["policy.trusted_registries"] = list(trusted)
    untrusted = sorted({n for n in names if not _trusted(n, trusted)})
    if untrusted:
        return FAIL, f"not from a trusted registry: {', '.join(untrusted)}", evidence
    return PASS, "every name of the image is in a trusted registry", evidence


def manual(message: str) -> Any:
    def check(ctx: Context) -> Verdict:
        count = len(ctx.images) if ctx.images is not None else None
        return MANUAL, message, {"docker.images.count": count}

    return check


def check_content_trust(ctx: Context) -> Verdict:
    env = ctx.need_host("env")
    if not isinstance(env, dict) or "DOCKER_CONTENT_TRUST" not in env:
        raise MissingData("host.env.DOCKER_CONTENT_TRUST")
    value = env["DOCKER_CONTENT_TRUST"]
    evidence = {"host.env.DOCKER_CONTENT_TRUST": value}
    if str(value).strip() == "1":
        return PASS, "DOCKER_CONTENT_TRUST=1 in the host environment", evidence
    return FAIL, "content trust is off (DOCKER_CONTENT_TRUST is not 1)", evidence


def _config(image: ImageView) -> dict[str, Any]:
    config = image.inspect.get("Config")
    if not isinstance(config, dict):
        raise MissingData("Config")
    return config


def check_image_healthcheck(ctx: Context, image: ImageView) -> Verdict:
    health = _config(image).get("Healthcheck")
    test = health.get("Test") if isinstance(health, dict) else None
    evidence = {"Config.Healthcheck.Test": test}
    if test and test[0] != "NONE":
        return PASS, "the image defines a HEALTHCHECK", evidence
    return FAIL, "the image has no HEALTHCHECK instruction", evidence


# -- history ---------------------------------------------------------------------------------------------------------
NOP = "/bin/sh -c #(nop)"
SHELL_PREFIX = re.compile(r"^(?:\|\d+\s+(?P<args>.*?)\s+)?/bin/(?:ba)?sh -c (?P<cmd>.*)$", re.S)
INSTRUCTION = re.compile(r"^(?P<op>[A-Z]+)\s+(?P<rest>.*)$", re.S)
PAIR = re.compile(r"""([A-Za-z_][A-Za-z0-9_]*)=("[^"]*"|'[^']*'|\S*)""")
OPS = r"(?:\s+-{1,2}\S+)*\s+"
UPDATE = re.compile(rf"\b(?:apt-get|apt|aptitude){OPS}update\b|\bapk{OPS}update\b|\b(?:yum|dnf|microdnf){OPS}makecache\b"
                    rf"|\bzypper{OPS}(?:refresh|ref)\b")  # fmt: skip
INSTALL = re.compile(rf"\b(?:apt-get|apt|aptitude){OPS}(?:install|upgrade|dist-upgrade|full-upgrade)\b"
                     rf"|\bapk{OPS}(?:add|upgrade)\b|\b(?:yum|dnf|microdnf){OPS}(?:install|upgrade|update)\b"
                     rf"|\bzypper{OPS}(?:install|in|update|up)\b")  # fmt: skip


def instruction(created_by: str) -> tuple[str, str, str]:
    """(instruction, its text, build args) of one history line, classic builder, BuildKit or Buildah alike."""
    text = created_by.strip().removesuffix("# buildkit").strip()
    if text.startswith(NOP):
        text = text[len(NOP) :].strip()
    elif (shell := SHELL_PREFIX.match(text)) is not None:
        return "RUN", shell.group("cmd"), shell.group("args") or ""
    match = INSTRUCTION.match(text)
    if match is None:
        return "", text, ""
    op, rest = match.group("op"), match.group("rest")
    if op == "RUN" and (shell := SHELL_PREFIX.match(rest)) is not None:
        return "RUN", shell.group("cmd"), shell.group("args") or ""
    return op, rest, ""


def _history(image: ImageView) -> list[dict[str, Any]]:
    if image.history is None:
        raise MissingData("history")
    return image.history


def parsed_history(image: ImageView) -> list[tuple[int, str, str, str]]:
    return [(i, *instruction(str(h.get("CreatedBy") or ""))) for i, h in enumerate(_history(image))]


def check_update_alone(ctx: Context, image: ImageView) -> Verdict:
    alone = [(i, text) for i, op, text, _ in parsed_history(image)
             if op == "RUN" and UPDATE.search(text) and not INSTALL.search(text)]  # fmt: skip
    if alone:
        evidence = {f"history[{i}].CreatedBy": text[:200] for i, text in alone}
        return FAIL, f"{len(alone)} layer(s) run a package index update without installing in the same RUN", evidence
    return PASS, "no layer runs a package index update on its own", {"history.layers": len(image.history or ())}


def check_add(ctx: Context, image: ImageView) -> Verdict:
    # The oldest layer is the base image's root filesystem, which is always an ADD.
    adds = [(i, text) for i, op, text, _ in parsed_history(image)[:-1] if op == "ADD"]
    if adds:
        evidence = {f"history[{i}].CreatedBy": f"ADD {text[:200]}" for i, text in adds}
        return FAIL, f"{len(adds)} layer(s) use ADD where COPY would do", evidence
    return PASS, "no layer above the base uses ADD", {"history.layers": len(image.history or ())}


SECRET_NAME = re.compile(r"PASSWORD|PASSWD|SECRET|TOKEN|API_?KEY|ACCESS_?KEY|PRIVATE_?KEY|CREDENTIAL|AUTH_?KEY")
SAFE_SUFFIXES = ("_FILE", "_PATH", "_DIR", "_NAME", "_URL_PATH")
SECRET_VALUE = re.compile(r"AKIA[0-9A-Z]{16}|gh[pousr]_[A-Za-z0-9]{30,}|github_pat_\w{20,}|xox[abprs]-[\w-]{10,}"
                          r"|glpat-[\w-]{20}|sk_live_\w{16,}|-----BEGIN [A-Z ]*PRIVATE KEY-----")  # fmt: skip


def looks_secret(name: str, value: str) -> bool:
    """A variable whose name says it holds a credential and whose value is not a reference to one elsewhere."""
    upper = name.upper()
    return (
        bool(value)
        and not value.startswith(("$", "/run/secrets/"))
        and SECRET_NAME.search(upper) is not None
        and not upper.endswith(SAFE_SUFFIXES)
    )


def _secret_pairs(text: str) -> list[str]:
    return [name for name, value in PAIR.findall(text) if looks_secret(name, value.strip("'\""))]


def check_secrets(ctx: Context, image: ImageView) -> Verdict:
    findings: dict[str, str] = {}
    for i, op, text, args in parsed_history(image):
        names = _secret_pairs(args)
        if op in ("ENV", "ARG", "LABEL"):
            names += _secret_pairs(text)
        if SECRET_VALUE.search(text) or SECRET_VALUE.search(args):
            names.append("a value shaped like a credential")
        if names:
            findings[f"history[{i}].CreatedBy"] = f"{op or 'layer'}: {', '.join(names)} (value hidden)"
    for item in _config(image).get("Env") or ():
        name, _, value = str(item).partition("=")
        if looks_secret(name, value) or SECRET_VALUE.search(value):
            findings[f"Config.Env[{name}]"] = "value hidden"
    if findings:
        return FAIL, f"the image carries what look like secrets in {len(findings)} place(s)", findings
    return (
        MANUAL,
        "no secret found in the image's history or environment; confirm the Dockerfile holds none",
        {"history.layers": len(image.history or ())},
    )


CHECKS: list[Check] = [
    Check("4.1", "Containers run as a non-root user", CONTAINER, AUTO, ("docker.containers",), check_user,
          "a non-root Config.User", "fail when Config.User is empty, 0 or root (any group)"),
    Check("4.2", "Images from trusted registries", IMAGE, POLICY, IMAGES, check_trusted_registry,
          "policy.trusted_registries", "fail when a RepoTag/RepoDigest is outside policy.trusted_registries"),
    Check("4.3", "No unnecessary packages in images", HOST, MAN, (), manual(
        "review image contents (an SBOM or a scanner) for packages the application does not need"), "reviewed",
        "manual: needs an SBOM or image scanner"),
    Check("4.4", "Images scanned and rebuilt for patches", HOST, MAN, (), manual(
        "confirm images are scanned for vulnerabilities and rebuilt with security patches"), "reviewed",
        "manual: needs an image scanner and rebuild records"),
    Check("4.5", "Content trust enabled", HOST, AUTO, ("host",), check_content_trust, "DOCKER_CONTENT_TRUST=1",
          "pass when host.env.DOCKER_CONTENT_TRUST is 1"),
    Check("4.6", "HEALTHCHECK in images", IMAGE, AUTO, IMAGES, check_image_healthcheck, "a HEALTHCHECK",
          "fail when Config.Healthcheck is absent or NONE"),
    Check("4.7", "No package index update alone", IMAGE, AUTO, IMAGES, check_update_alone,
          "update and install in one RUN", "fail when a RUN layer updates a package index without installing"),
    Check("4.8", "setuid and setgid bits removed", HOST, MAN, (), manual(
        "scan image filesystems for setuid/setgid binaries the application does not need"), "reviewed",
        "manual: needs an image filesystem scan"),
    Check("4.9", "COPY rather than ADD", IMAGE, AUTO, IMAGES, check_add, "no ADD above the base layer",
          "fail when a history layer other than the oldest is an ADD"),
    Check("4.10", "No secrets in build files", IMAGE, AUTO, IMAGES, check_secrets, "no secrets",
          "fail when ENV/ARG/build-arg names or values look like secrets; manual otherwise"),
    Check("4.11", "Only verified packages installed", HOST, MAN, (), manual(
        "confirm packages are installed from verified (signed) sources"), "reviewed",
        "manual: needs package provenance"),
    Check("4.12", "Signed artifacts validated", HOST, MAN, (), manual(
        "confirm image signatures and artifact provenance are verified before use"), "reviewed",
        "manual: needs signature verification records"),
]  # fmt: skip
