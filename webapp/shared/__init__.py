"""What pages and the API share: extensions, the current Engine (context), access guards, error
responses, audit rows of data access (access_record), model uploads, form rendering and checks, strict
JSON, safe redirects, the proxy's client address, filters, spreadsheet exports, vendored assets,
simulation jobs.

Never imports webapp.pages or webapp.api.routes: a helper two pages need moves here.
"""
