"""Declared integration event types: name, version, JSON Schema.

A service lists the events it publishes as ``EventType``s whose schema files
sit beside it; the outbox refuses to record data that does not validate, so
nothing undocumented reaches the wire.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import fastjsonschema
import jsonschema


class SchemaViolation(ValueError):
    pass


@dataclass(frozen=True)
class EventType:
    name: str  # e.g. gonghui.members.member.joined
    version: int
    schema_path: Path

    @cached_property
    def schema(self) -> dict:
        return json.loads(self.schema_path.read_text())

    @cached_property
    def _validator(self):
        cls = jsonschema.validators.validator_for(self.schema)
        cls.check_schema(self.schema)
        return cls(self.schema, format_checker=cls.FORMAT_CHECKER)

    @cached_property
    def _fast(self):
        """The same schema compiled to Python (fastjsonschema; the schemas use nothing beyond draft 7),
        for the hot path: every write that records an event validates it."""
        return fastjsonschema.compile({**self.schema, "$schema": "http://json-schema.org/draft-07/schema#"})

    @property
    def dataschema(self) -> str:
        return f"urn:gonghui:schema:{self.name}:{self.version}"

    def validate(self, data: dict) -> None:
        try:
            self._fast(data)
        except fastjsonschema.JsonSchemaValueException as exc:
            fast_error = exc.message
        else:
            return
        errors = sorted(self._validator.iter_errors(data), key=lambda e: list(e.path))  # the better message
        if errors:
            first = errors[0]
            where = "/".join(str(p) for p in first.path) or "(root)"
            raise SchemaViolation(f"{self.name} v{self.version}: {where}: {first.message}")
        raise SchemaViolation(f"{self.name} v{self.version}: {fast_error}")
