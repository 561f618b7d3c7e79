"""The JSON API under /api/v1 (routes) and its OpenAPI document (openapi); HTML pages are webapp.pages.
"""
