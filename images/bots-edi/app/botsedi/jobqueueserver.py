"""bots-jobqueueserver that runs the jobs it accepts (this image's fix for bots-ediint 3.3.1).

In 3.3.1 the XML-RPC server files jobs in a list (Jobqueue.addjob), while the launcher threads wait on a
queue.Queue that nothing ever fills: jobs are accepted and never started. Here one launcher takes jobs
from that same list (highest priority first), so engine runs stay one at a time, as the job queue
promises. The engine's output goes to this process's stdout (the pod log) instead of /dev/null.
Clients are unchanged: bots-job2queue and the web UI talk XML-RPC to 127.0.0.1:<[jobqueue] port>.
"""

import os
import signal
import subprocess
import sys
import threading
import time
from xmlrpc.server import SimpleXMLRPCServer

from bots import botsglobal, botsinit
from bots.jobqueueserver import Jobqueue


class LockedJobqueue(Jobqueue):
    """Jobqueue of 3.3.1, safe to use from the XML-RPC thread and the launcher at once."""

    def __init__(self, logger):
        super().__init__(logger)
        self._lock = threading.Lock()

    def addjob(self, task, priority):
        with self._lock:
            return super().addjob(task, priority)

    def clearjobq(self):
        with self._lock:
            return super().clearjobq()

    def getjob(self):
        with self._lock:
            return super().getjob()


def launcher(jobqueue, logger, frequency: float, maxruntime_minutes: int, stop: threading.Event) -> None:
    while not stop.is_set():
        job = jobqueue.getjob()
        if not job:
            stop.wait(frequency)
            continue
        _priority, number, task = job
        logger.log(25, "Starting job %(job)s: %(task)s", {"job": number, "task": task})
        started = time.monotonic()
        try:
            process = subprocess.Popen(task, stdin=subprocess.DEVNULL)
        except OSError as exc:
            logger.error("Error starting job %(job)s (%(task)s): %(exc)s", {"job": number, "task": task, "exc": exc})
            continue
        try:
            result = process.wait(timeout=maxruntime_minutes * 60)
        except subprocess.TimeoutExpired:
            logger.error(
                "Job %(job)s exceeded maxruntime of %(max)s minutes; waiting for it to end",
                {"job": number, "max": maxruntime_minutes},
            )
            result = process.wait()
        logger.log(
            25,
            "Finished job %(job)s, elapsed time %(secs).1f s, result %(result)s",
            {"job": number, "secs": time.monotonic() - started, "result": result},
        )


def start() -> None:
    configdir = "config"
    for arg in sys.argv[1:]:
        if arg.startswith("-c") and len(arg) > 2:
            configdir = arg[2:]
        else:
            print(f"usage: {os.path.basename(sys.argv[0])} [-c<configdir>]")
            sys.exit(0 if arg in ("-h", "--help") else 1)
    botsinit.generalinit(configdir)
    if not botsglobal.ini.getboolean("jobqueue", "enabled", False):
        print(f"Error: bots jobqueue cannot start; not enabled in {configdir}/bots.ini")
        sys.exit(1)
    logger = botsinit.initserverlogging("jobqueue")
    port = botsglobal.ini.getint("jobqueue", "port", 28082)
    frequency = botsglobal.ini.getint("jobqueue", "lauchfrequency", 5)
    maxruntime = botsglobal.ini.getint("settings", "maxruntime", 60)
    logger.log(25, "Bots jobqueue started (edirunbook fix: jobs are launched).")
    logger.log(25, 'Bots jobqueue configdir: "%s".', botsglobal.ini.get("directories", "config"))
    logger.log(25, 'Bots jobqueue listens for xmlrpc at port: "%s".', port)

    jobqueue = LockedJobqueue(logger)
    stop = threading.Event()
    thread = threading.Thread(
        target=launcher, name="launcher", args=(jobqueue, logger, frequency, maxruntime, stop)
    )
    thread.start()
    server = SimpleXMLRPCServer(("127.0.0.1", port), logRequests=False, allow_none=True)
    server.register_instance(jobqueue)
    # readiness (botsedi.jobqueue_ready): the server answers and the launcher still runs
    server.register_function(thread.is_alive, "ping")

    def _stop(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, _stop)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        logger.log(25, "Bots jobqueue stopping; a running job is allowed to finish.")
    finally:
        stop.set()
        server.server_close()
        thread.join()
    logger.log(25, "Bots jobqueue stopped.")


if __name__ == "__main__":
    start()
