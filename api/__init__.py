"""
API v1 (``/api/v1/``): every action of the page for programs, described by
an OpenAPI document generated from these modules (django-ninja).

Views only translate HTTP: they call the same access rules, selectors and
services as the pages and the socket, and return the contract's payloads
(chat/payloads.py), which the schemas here describe.
"""
