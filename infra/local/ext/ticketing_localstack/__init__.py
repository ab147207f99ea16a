"""LocalStack plugins of the ticketing project (see infra/local/README or stack.py):

* providers:  ``dynamodb:ticketing`` / ``dynamodbstreams:ticketing`` (moto-backed, serialized)
* plugins:    ``host-process`` Lambda runtime executor, ``twisted-loopback`` gateway server
"""
