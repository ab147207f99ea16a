"""Entry point stack.py starts LocalStack with: ``python -m ticketing_localstack.main``.

It is ``python -m localstack.runtime.main`` (signal handlers, runtime, shutdown hooks, cleanup) followed by
``os._exit``. After LocalStack's own shutdown has finished ("[shutdown] Completed, bye!") a normal interpreter
exit still joins every non-daemon thread (concurrent.futures workers of LocalStack's services among them) and
then garbage-collects and tears down a heap of botocore/moto objects: 3-4 s of "Garbage-collecting" on these
2-core machines, more while cargo builds, which pushed the whole stop past stack.py's 10 s grace period.
Nothing is left to clean up by then: the atexit handlers (ours kills function processes) run explicitly.
"""

import atexit
import logging
import os
import sys


def main() -> None:
    from localstack.runtime import main as runtime_main

    try:
        runtime_main.main()  # ends with sys.exit(exit code)
        code = 0
    except SystemExit as e:
        code = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
        if isinstance(e.code, str):
            print(e.code, file=sys.stderr)
    atexit._run_exitfuncs()
    logging.shutdown()
    for stream in (sys.stdout, sys.stderr):
        stream.flush()
    os._exit(code)


if __name__ == "__main__":
    main()
