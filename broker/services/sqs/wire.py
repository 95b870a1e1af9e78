"""Wire facts for SQS that botocore's (JSON-only) model no longer carries, from AWS's SQS API reference."""

from __future__ import annotations

from broker.protocol.spec import QueryNames

XMLNS = "http://queue.amazonaws.com/doc/2012-11-05/"

# Error shape name -> the legacy query-protocol code (also sent in x-amzn-query-error on JSON).
QUERY_ERROR_CODES = {
    "QueueDoesNotExist": "AWS.SimpleQueueService.NonExistentQueue",
    "QueueNameExists": "QueueAlreadyExists",
    "QueueDeletedRecently": "AWS.SimpleQueueService.QueueDeletedRecently",
    "PurgeQueueInProgress": "AWS.SimpleQueueService.PurgeQueueInProgress",
    "EmptyBatchRequest": "AWS.SimpleQueueService.EmptyBatchRequest",
    "TooManyEntriesInBatchRequest": "AWS.SimpleQueueService.TooManyEntriesInBatchRequest",
    "BatchEntryIdsNotDistinct": "AWS.SimpleQueueService.BatchEntryIdsNotDistinct",
    "BatchRequestTooLong": "AWS.SimpleQueueService.BatchRequestTooLong",
    "InvalidBatchEntryId": "AWS.SimpleQueueService.InvalidBatchEntryId",
    "MessageNotInflight": "AWS.SimpleQueueService.MessageNotInflight",
    "UnsupportedOperation": "AWS.SimpleQueueService.UnsupportedOperation",
    "KmsDisabled": "KMS.DisabledException",
    "KmsInvalidState": "KMS.InvalidStateException",
    "KmsNotFound": "KMS.NotFoundException",
    "KmsOptInRequired": "KMS.OptInRequired",
    "KmsThrottled": "KMS.ThrottlingException",
    "KmsAccessDenied": "KMS.AccessDeniedException",
    "KmsInvalidKeyUsage": "KMS.InvalidKeyUsageException",
    "AccessDeniedException": "AccessDenied",
}

# Codes whose JSON-protocol exception name (__type) differs: the JSON model renamed them, x-amzn-query-error keeps
# the code (AWS: {"__type": "com.amazonaws.sqs#InvalidParameterValueException"}, "InvalidParameterValue;Sender").
JSON_ERROR_TYPES = {
    "InvalidParameterValue": "InvalidParameterValueException",
    "MissingParameter": "MissingRequiredParameterException",
}

# Messages the query protocol words differently from the JSON protocol.
QUERY_ERROR_MESSAGES = {
    "QueueDoesNotExist": "The specified queue does not exist for this wsdl version.",
}

# Operations of the account, not of a queue: AWS refuses them (InvalidAction) when sent to a queue URL.
ACCOUNT_OPERATIONS = frozenset({"CreateQueue", "ListQueues"})

QUERY_NAMES = QueryNames(
    members={
        "CreateQueueRequest.Attributes": "Attribute",
        "CreateQueueRequest.tags": "Tag",
        "SetQueueAttributesRequest.Attributes": "Attribute",
        "GetQueueAttributesRequest.AttributeNames": "AttributeName",
        "GetQueueAttributesResult.Attributes": "Attribute",
        "ReceiveMessageRequest.AttributeNames": "AttributeName",
        "ReceiveMessageRequest.MessageSystemAttributeNames": "MessageSystemAttributeName",
        "ReceiveMessageRequest.MessageAttributeNames": "MessageAttributeName",
        "ReceiveMessageResult.Messages": "Message",
        "Message.Attributes": "Attribute",
        "Message.MessageAttributes": "MessageAttribute",
        "SendMessageRequest.MessageAttributes": "MessageAttribute",
        "SendMessageRequest.MessageSystemAttributes": "MessageSystemAttribute",
        "SendMessageBatchRequest.Entries": "SendMessageBatchRequestEntry",
        "SendMessageBatchRequestEntry.MessageAttributes": "MessageAttribute",
        "SendMessageBatchRequestEntry.MessageSystemAttributes": "MessageSystemAttribute",
        "SendMessageBatchResult.Successful": "SendMessageBatchResultEntry",
        "SendMessageBatchResult.Failed": "BatchResultErrorEntry",
        "DeleteMessageBatchRequest.Entries": "DeleteMessageBatchRequestEntry",
        "DeleteMessageBatchResult.Successful": "DeleteMessageBatchResultEntry",
        "DeleteMessageBatchResult.Failed": "BatchResultErrorEntry",
        "ChangeMessageVisibilityBatchRequest.Entries": "ChangeMessageVisibilityBatchRequestEntry",
        "ChangeMessageVisibilityBatchResult.Successful": "ChangeMessageVisibilityBatchResultEntry",
        "ChangeMessageVisibilityBatchResult.Failed": "BatchResultErrorEntry",
        "ListQueuesResult.QueueUrls": "QueueUrl",
        "ListDeadLetterSourceQueuesResult.queueUrls": "QueueUrl",
        "ListQueueTagsResult.Tags": "Tag",
        "TagQueueRequest.Tags": "Tag",
        "UntagQueueRequest.TagKeys": "TagKey",
        "AddPermissionRequest.AWSAccountIds": "AWSAccountId",
        "AddPermissionRequest.Actions": "ActionName",
        "ListMessageMoveTasksResult.Results": "ListMessageMoveTasksResultEntry",
        "MessageAttributeValue.StringListValues": "StringListValue",
        "MessageAttributeValue.BinaryListValues": "BinaryListValue",
        "MessageSystemAttributeValue.StringListValues": "StringListValue",
        "MessageSystemAttributeValue.BinaryListValues": "BinaryListValue",
    },
    map_keys={
        "CreateQueueRequest.Attributes": ("Name", "Value"),
        "CreateQueueRequest.tags": ("Key", "Value"),
        "SetQueueAttributesRequest.Attributes": ("Name", "Value"),
        "GetQueueAttributesResult.Attributes": ("Name", "Value"),
        "Message.Attributes": ("Name", "Value"),
        "Message.MessageAttributes": ("Name", "Value"),
        "SendMessageRequest.MessageAttributes": ("Name", "Value"),
        "SendMessageRequest.MessageSystemAttributes": ("Name", "Value"),
        "SendMessageBatchRequestEntry.MessageAttributes": ("Name", "Value"),
        "SendMessageBatchRequestEntry.MessageSystemAttributes": ("Name", "Value"),
        "ListQueueTagsResult.Tags": ("Key", "Value"),
        "TagQueueRequest.Tags": ("Key", "Value"),
    },
)
