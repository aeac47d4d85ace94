"""moto's server app, answering one request at a time.

DynamoDB applies each request atomically; moto's threaded server lets two
requests interleave inside each other (a transaction's table copy, an
update's read and write), which no real table does. Served one at a time,
requests still race with each other exactly as clients' requests do, and
each is atomic, as in DynamoDB.

    python -m tests.support.serial_moto_server HOST PORT
"""

from __future__ import annotations

import sys

from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
from werkzeug.serving import run_simple


def main() -> None:
    host, port = sys.argv[1], int(sys.argv[2])
    run_simple(host, port, DomainDispatcherApplication(create_backend_app), threaded=False)


if __name__ == "__main__":
    main()
