"""The Powertools logger and metrics, created once per process; tracing is Lambda's own.

Service name and namespace come from ``POWERTOOLS_SERVICE_NAME`` and
``POWERTOOLS_METRICS_NAMESPACE`` (set in template.yaml's Globals).

Tracing is Lambda's active tracing (``Tracing: Active`` in template.yaml's Globals):
Lambda records each invocation's segment (initialization, invocation, overhead,
errors) itself, and botocore passes the invocation's trace header to every AWS call
(``X-Amzn-Trace-Id``, its recursion-detection handler), so a message's trace follows
it through SQS to the sender. No tracing SDK is loaded: the X-Ray SDK behind
Powertools' ``Tracer`` (with wrapt, asyncio and the patching of botocore) cost every
cold start 60-90 ms, the cold-start issue's goals could not be met with it
(``bench/cold_start.py``), and its only addition was a subsegment per AWS call.
Without it nothing of a request or response can reach a trace. The logger stamps
every line with the trace id (``xray_trace_id``), which links logs to traces.
"""

from __future__ import annotations

from aws_lambda_powertools import Logger, Metrics

logger = Logger()
metrics = Metrics()
