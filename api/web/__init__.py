"""The web pages: coordinators, caseworkers and fleet managers in a browser.

``api.web.app.install(app)`` adds the pages under ``/web`` (German first, English
switchable), their static files under ``/web/static`` (every asset vendored, nothing
from a CDN) and the handlers that turn a missing session into a redirect to the
sign-in and a refused page into an HTML error page. The JSON API is untouched: it keeps
its bearer tokens.
"""
