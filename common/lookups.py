"""`field__any=[...]`: membership in a list sent as one array parameter on PostgreSQL (IN elsewhere).

Posture filters tallies by the snapshots of thousands of hosts; an IN list of thousands of placeholders costs more to
build, send and plan than the aggregation it feeds.
"""

from typing import Any

from django.db import models
from django.db.models.lookups import In


@models.ForeignKey.register_lookup
@models.BigAutoField.register_lookup
class AnyArray(In):
    lookup_name = "any"

    def as_postgresql(self, compiler: Any, connection: Any) -> tuple[str, list[Any]]:
        lhs, lhs_params = self.process_lhs(compiler, connection)
        return f"{lhs} = ANY(%s)", [*lhs_params, list(self.rhs)]
