"""What pages and the API share: extensions, the current Engine, access guards, error responses, form
rendering and checks, filters, spreadsheet exports, vendored assets, simulation jobs.

Never imports webapp.pages or webapp.api.routes: a helper two pages need moves here.
"""
