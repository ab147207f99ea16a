"""Service provider plugins (entry-point namespace ``localstack.aws.provider``), declared the same way as
LocalStack's own in localstack.services.providers. Imports stay inside the factories: plux imports this module
while scanning, long before the services are loaded."""

from localstack.services.plugins import Service, aws_provider


@aws_provider(api="dynamodb", name="ticketing")
def dynamodb_ticketing() -> Service:
    from .dynamodb import TicketingDynamoDBProvider, dynamodb_dispatch_table

    return Service.for_provider(TicketingDynamoDBProvider(), dispatch_table_factory=dynamodb_dispatch_table)


@aws_provider(api="dynamodbstreams", name="ticketing")
def dynamodbstreams_ticketing() -> Service:
    from .dynamodb import TicketingDynamoDBStreamsProvider, dynamodbstreams_dispatch_table

    return Service.for_provider(
        TicketingDynamoDBStreamsProvider(), dispatch_table_factory=dynamodbstreams_dispatch_table
    )
