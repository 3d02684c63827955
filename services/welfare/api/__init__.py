"""The welfare service's HTTP API: a flask-smorest Blueprint per resource, schemas beside the views."""
