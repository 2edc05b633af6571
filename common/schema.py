"""The OpenAPI schema: the AutoSchema every API view uses and the post-processing hook of drf-spectacular."""

from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema


class AutoSchema(SpectacularAutoSchema):
    """drf-spectacular's AutoSchema; the place for what every operation documents."""


def postprocess_schema(result, generator, request, public):  # noqa: ANN001, ANN201 (drf-spectacular's hook signature)
    return result
