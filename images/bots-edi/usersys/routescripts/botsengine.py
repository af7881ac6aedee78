"""Engine-wide user exits (Bots calls pre/post around every engine run).

Bots 3.3.1 writes the reason a file failed only to the database (ta.errortext, filereport.errortext);
engine.log and the console just count the errors. `post` logs one ERROR line per failed file and per
process error, naming the file and the cause, so `kubectl logs` and engine.log show why a run failed.
"""

from bots import botsglobal, botslib

_ERROR = 1     # ta.statust / filereport.statust: error
_PROCESS = 1   # ta.status: a process step (communication, route script ...)
_start = {"report": 0, "ta": 0}


def pre(commandstorun, routestorun):
    for row in botslib.query("SELECT MAX(idta) AS m FROM report", {}):
        _start["report"] = row["m"] or 0
    for row in botslib.query("SELECT MAX(idta) AS m FROM ta", {}):
        _start["ta"] = row["m"] or 0


def post(commandstorun, routestorun):
    for row in botslib.query(
        """SELECT idroute, infilename, errortext FROM filereport
           WHERE reportidta > %(start)s AND statust = %(error)s ORDER BY idta""",
        {"start": _start["report"], "error": _ERROR},
    ):
        botsglobal.logger.error(
            'Route "%(route)s": file "%(file)s" failed: %(reason)s',
            {"route": row["idroute"], "file": row["infilename"], "reason": _oneline(row["errortext"])},
        )
    for row in botslib.query(
        """SELECT idroute, errortext FROM ta
           WHERE idta > %(start)s AND status = %(process)s AND statust = %(error)s ORDER BY idta""",
        {"start": _start["ta"], "process": _PROCESS, "error": _ERROR},
    ):
        botsglobal.logger.error(
            'Route "%(route)s": process error: %(reason)s',
            {"route": row["idroute"], "reason": _oneline(row["errortext"])},
        )


def _oneline(text):
    return " | ".join(line.strip() for line in (text or "").splitlines() if line.strip()) or "(no reason recorded)"
