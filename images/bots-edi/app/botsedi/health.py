"""/health/live, /health/ready, /health/startup and /health/ping, as the probes and the runbook use them.

live    200 while the process answers; never touches the database (a DB outage must not restart pods).
ready   200 when `SELECT 1` works and botssys/usersys exist, else 503 with a JSON reason.
startup ready + the Bots tables channel, routes, ta and mutex exist, else 503.
ping    200 `ok` (the runbook's quick status check).
"""

import os

from bots import botsglobal
from django.http import HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from botsedi import db, paths


def _dirs_problem():
    for name in ("botssys", "usersysabs"):
        path = botsglobal.ini.get("directories", name)
        if not os.path.isdir(path):
            return f"{name.replace('abs', '')} directory {path} does not exist"
    return None


def _check(tables: bool):
    checks = {}
    problem = _dirs_problem()
    checks["directories"] = problem or "ok"
    try:
        with db.probe_connection() as conn:
            cur = conn.cursor()
            cur.execute("SELECT 1")
            cur.fetchall()
            checks["database"] = "ok"
            if tables:
                cur.execute(
                    "SELECT table_name FROM information_schema.tables WHERE table_schema = DATABASE()"
                )
                present = {row[0].lower() for row in cur.fetchall()}
                missing = [t for t in paths.REQUIRED_TABLES if t not in present]
                checks["tables"] = "missing: " + ", ".join(missing) if missing else "ok"
                problem = problem or (
                    f"Bots tables missing: {', '.join(missing)} (run init-db)" if missing else None
                )
    except Exception as exc:  # any failure to reach or query the database means not ready
        checks["database"] = db.describe_error(exc)
        problem = problem or "database unreachable: " + checks["database"]
    if problem:
        return JsonResponse({"status": "fail", "reason": problem, "checks": checks}, status=503)
    return JsonResponse({"status": "ok", "checks": checks})


@never_cache
@require_GET
def live(request):
    return JsonResponse({"status": "ok"})


@never_cache
@require_GET
def ready(request):
    return _check(tables=False)


@never_cache
@require_GET
def startup(request):
    return _check(tables=True)


@never_cache
@require_GET
def ping(request):
    return HttpResponse("ok", content_type="text/plain")
