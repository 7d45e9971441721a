# The same endpoint as a WSGI app for gunicorn's sync workers (the 2011 stack's choice).
BODY = b'{"ok": true}'


def application(environ, start_response):
    start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(BODY)))])
    return [BODY]
