"""Loaded by the app server that ``bench_app.py --trace`` starts (this folder is put first on
its PYTHONPATH): each script run of the server, whole page or a part that reruns alone,
appends its wall time, the CPU time of its thread and when it ended (``time.perf_counter``,
the system's monotonic clock, which the bench reads too) to the file named by
``FAIRCARD_BENCH_RUNS``, so a step's server work can be told from waiting for the cores, and
the script's end from the moment its last message reaches the browser."""

import os

if os.environ.get("FAIRCARD_BENCH_RUNS"):
    import time

    from streamlit.runtime.scriptrunner import script_runner

    _run_script = script_runner.ScriptRunner._run_script

    def _timed(self, rerun_data):
        wall, cpu = time.perf_counter(), time.thread_time()
        try:
            return _run_script(self, rerun_data)
        finally:
            with open(os.environ["FAIRCARD_BENCH_RUNS"], "a") as out:
                end = time.perf_counter()
                out.write(f"{end - wall:.4f} {time.thread_time() - cpu:.4f} {end:.4f}\n")

    script_runner.ScriptRunner._run_script = _timed
