"""The catalog REST API (Backstage-compatible), mounted at /api/catalog."""
