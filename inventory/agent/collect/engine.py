"""docker: raw Docker Engine API objects (Docker or Podman), embedded unchanged apart from redaction."""

from __future__ import annotations

from typing import Any, Protocol

from inventory.agent.errors import ErrorLog, describe
from inventory.agent.redact import (
    redact_container,
    redact_history,
    redact_image,
    redact_service,
    without_join_tokens,
)


class EngineAPI(Protocol):
    """The part of docker.APIClient the agent uses."""

    def info(self) -> dict[str, Any]: ...
    def version(self) -> dict[str, Any]: ...
    def containers(self, all: bool = ..., quiet: bool = ...) -> list[dict[str, Any]]: ...  # noqa: A002
    def inspect_container(self, container: str) -> dict[str, Any]: ...
    def top(self, container: str) -> dict[str, Any]: ...
    def images(self) -> list[dict[str, Any]]: ...
    def inspect_image(self, image: str) -> dict[str, Any]: ...
    def history(self, image: str) -> list[dict[str, Any]]: ...
    def networks(self) -> list[dict[str, Any]]: ...
    def inspect_network(self, net_id: str) -> dict[str, Any]: ...
    def plugins(self) -> list[dict[str, Any]]: ...
    def inspect_swarm(self) -> dict[str, Any]: ...
    def nodes(self) -> list[dict[str, Any]]: ...
    def services(self) -> list[dict[str, Any]]: ...
    def secrets(self) -> list[dict[str, Any]]: ...


def _status_code(exc: Exception) -> int | None:
    return getattr(getattr(exc, "response", None), "status_code", None)


def _is_not_found(exc: Exception) -> bool:
    return _status_code(exc) == 404


def _is_not_running(exc: Exception) -> bool:
    """top on a container that stopped (409) or went away (404) since it was inspected: no processes, no error."""
    return _status_code(exc) in (404, 409) or "is not running" in str(exc).lower()


def collect_containers(api: EngineAPI, errors: ErrorLog) -> list[dict[str, Any]]:
    """A failure of the list raises (the whole set is unknown); one container's failure names it as the target."""
    containers = []
    for summary in api.containers(all=True, quiet=True):
        container_id = summary["Id"]
        try:
            inspect = api.inspect_container(container_id)
        except Exception as exc:  # noqa: BLE001
            if not _is_not_found(exc):  # removed since the list was taken: not an error
                errors.add("docker.containers", f"inspect: {describe(exc)}", target=container_id)
            continue
        top = None
        if (inspect.get("State") or {}).get("Running"):
            try:
                top = api.top(container_id)
            except Exception as exc:  # noqa: BLE001
                if not _is_not_running(exc):
                    errors.add("docker.containers.top", describe(exc), target=container_id)
        containers.append({"inspect": redact_container(inspect), "top": top})
    return containers


def collect_images(api: EngineAPI, errors: ErrorLog) -> list[dict[str, Any]]:
    """A failure of the list raises; an image that cannot be inspected is left out and named as the target."""
    images = []
    for summary in api.images():
        image_id = summary["Id"]
        try:
            inspect = api.inspect_image(image_id)
        except Exception as exc:  # noqa: BLE001
            if not _is_not_found(exc):
                errors.add("docker.images", f"inspect: {describe(exc)}", target=image_id)
            continue
        history = None
        try:
            history = api.history(image_id)
        except Exception as exc:  # noqa: BLE001
            if _is_not_found(exc):  # removed since it was inspected
                continue
            errors.add("docker.images", f"history: {describe(exc)}", target=image_id)
        images.append({"inspect": redact_image(inspect), "history": redact_history(history)})
    return images


def collect_networks(api: EngineAPI, errors: ErrorLog) -> list[dict[str, Any]]:
    networks = []
    for summary in api.networks():
        try:
            networks.append(api.inspect_network(summary["Id"]))
        except Exception as exc:  # noqa: BLE001
            if not _is_not_found(exc):
                errors.add("docker.networks", f"{summary.get('Name') or summary['Id']}: {describe(exc)}")
    return networks


def collect_swarm(api: EngineAPI, info: dict[str, Any] | None) -> dict[str, Any] | None:
    """None unless this node is in an active swarm; only a manager can answer the cluster-wide calls."""
    swarm_info = (info or {}).get("Swarm") or {}
    if swarm_info.get("LocalNodeState") != "active":
        return None
    is_manager = bool(swarm_info.get("ControlAvailable"))
    swarm: dict[str, Any] = {"is_manager": is_manager, "inspect": None, "nodes": None, "services": None}
    swarm["secrets_count"] = None  # GET /secrets is counted, never stored: it names secrets, payloads are not in it
    if is_manager:
        swarm["inspect"] = without_join_tokens(api.inspect_swarm())
        swarm["nodes"] = api.nodes()
        swarm["services"] = [redact_service(s) for s in api.services()]
        swarm["secrets_count"] = len(api.secrets())
    return swarm


def collect_docker(api: EngineAPI, errors: ErrorLog) -> dict[str, Any]:
    docker: dict[str, Any] = {
        "info": None,
        "version": None,
        "containers": None,
        "images": None,
        "networks": None,
        "plugins": None,
        "swarm": None,
    }
    with errors.guard("docker.info"):
        docker["info"] = api.info()
    with errors.guard("docker.version"):
        docker["version"] = api.version()
    with errors.guard("docker.containers"):
        docker["containers"] = collect_containers(api, errors)
    with errors.guard("docker.images"):
        docker["images"] = collect_images(api, errors)
    with errors.guard("docker.networks"):
        docker["networks"] = collect_networks(api, errors)
    with errors.guard("docker.plugins"):
        docker["plugins"] = api.plugins()
    if docker["info"] is None:
        errors.add("docker.swarm", "swarm state unknown: /info could not be read")
    else:
        with errors.guard("docker.swarm"):
            docker["swarm"] = collect_swarm(api, docker["info"])
    return docker
