"""The services' flask-smorest Blueprint: a resource's routes, its schemas and its OpenAPI."""
from __future__ import annotations

import flask_smorest
from marshmallow import Schema
from webargs.flaskparser import FlaskParser


class SchemaOnceParser(FlaskParser):
    """Reads a request's arguments with one instance of each Schema class. webargs would build an
    instance for every request, and marshmallow copies every declared field to do so (about 3 % of a
    registration's CPU); loading keeps no state in the instance."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._instances: dict[type[Schema], Schema] = {}

    def _get_schema(self, argmap, req) -> Schema:
        if isinstance(argmap, type) and issubclass(argmap, Schema):
            schema = self._instances.get(argmap)
            if schema is None:
                schema = self._instances[argmap] = argmap()
            return schema
        return super()._get_schema(argmap, req)


class Blueprint(flask_smorest.Blueprint):
    ARGUMENTS_PARSER = SchemaOnceParser()
