"""AWS managed policies (arn:aws:iam::aws:policy/...) that applications commonly attach: the data AWS publishes for
them — path, default version, dates, description, document. Data only; `aws_policies.py` serves it.

ReadOnlyAccess's real document lists several thousand actions; it is abridged here to its first services.
PolicyIds are stable but the broker's own (AWS's are not published)."""

from __future__ import annotations

from typing import Any, TypedDict


class AwsPolicy(TypedDict):
    name: str
    path: str
    version: str  # the default version's id
    created: str
    updated: str
    description: str
    document: dict[str, Any]


def _allow(actions: list[str] | str, resource: str | list[str] = "*", **extra: Any) -> dict[str, Any]:
    return {**extra, "Effect": "Allow", "Action": actions, "Resource": resource}


def _doc(*statements: dict[str, Any]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": list(statements)}


_LOGS_WRITE = ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"]

POLICIES: tuple[AwsPolicy, ...] = (
    {
        "name": "AdministratorAccess",
        "path": "/",
        "version": "v1",
        "created": "2015-02-06T18:39:46Z",
        "updated": "2015-02-06T18:39:46Z",
        "description": "Provides full access to AWS services and resources.",
        "document": _doc(_allow("*")),
    },
    {
        "name": "PowerUserAccess",
        "path": "/",
        "version": "v5",
        "created": "2015-02-06T18:39:47Z",
        "updated": "2023-07-06T22:04:00Z",
        "description": "Provides full access to AWS services and resources, but does not allow management of Users"
        " and groups.",
        "document": _doc(
            {"Effect": "Allow", "NotAction": ["iam:*", "organizations:*", "account:*"], "Resource": "*"},
            _allow(
                [
                    "iam:CreateServiceLinkedRole",
                    "iam:DeleteServiceLinkedRole",
                    "iam:ListRoles",
                    "organizations:DescribeOrganization",
                    "account:ListRegions",
                    "account:GetAccountInformation",
                ]
            ),
        ),
    },
    {
        "name": "ReadOnlyAccess",
        "path": "/",
        "version": "v120",
        "created": "2015-02-06T18:39:48Z",
        "updated": "2025-09-12T16:34:07Z",
        "description": "Provides read-only access to AWS services and resources.",
        "document": _doc(
            _allow(
                [
                    "acm:Describe*",
                    "acm:Get*",
                    "acm:List*",
                    "apigateway:GET",
                    "cloudwatch:Describe*",
                    "cloudwatch:Get*",
                    "cloudwatch:List*",
                    "dynamodb:BatchGet*",
                    "dynamodb:Describe*",
                    "dynamodb:Get*",
                    "dynamodb:List*",
                    "dynamodb:Query",
                    "dynamodb:Scan",
                    "events:Describe*",
                    "events:List*",
                    "events:Test*",
                    "iam:Generate*",
                    "iam:Get*",
                    "iam:List*",
                    "iam:Simulate*",
                    "kinesis:Describe*",
                    "kinesis:Get*",
                    "kinesis:List*",
                    "lambda:Get*",
                    "lambda:List*",
                    "logs:Describe*",
                    "logs:FilterLogEvents",
                    "logs:Get*",
                    "logs:ListTagsForResource",
                    "logs:StartQuery",
                    "logs:StopQuery",
                    "logs:TestMetricFilter",
                    "s3:Describe*",
                    "s3:Get*",
                    "s3:List*",
                    "sns:Check*",
                    "sns:Get*",
                    "sns:List*",
                    "sqs:Get*",
                    "sqs:List*",
                    "sqs:Receive*",
                    "states:Describe*",
                    "states:Get*",
                    "states:List*",
                    "sts:GetCallerIdentity",
                ]
            )
        ),
    },
    {
        "name": "IAMFullAccess",
        "path": "/",
        "version": "v2",
        "created": "2015-02-06T18:40:38Z",
        "updated": "2019-06-21T19:40:00Z",
        "description": "Provides full access to IAM via the AWS Management Console.",
        "document": _doc(
            _allow(
                [
                    "iam:*",
                    "organizations:DescribeAccount",
                    "organizations:DescribeOrganization",
                    "organizations:DescribeOrganizationalUnit",
                    "organizations:DescribePolicy",
                    "organizations:ListChildren",
                    "organizations:ListParents",
                    "organizations:ListPoliciesForTarget",
                    "organizations:ListRoots",
                    "organizations:ListPolicies",
                    "organizations:ListTargetsForPolicy",
                ]
            )
        ),
    },
    {
        "name": "AWSLambdaBasicExecutionRole",
        "path": "/service-role/",
        "version": "v1",
        "created": "2015-04-09T15:03:43Z",
        "updated": "2015-04-09T15:03:43Z",
        "description": "Provides write permissions to CloudWatch Logs.",
        "document": _doc(_allow(_LOGS_WRITE)),
    },
    {
        "name": "AWSLambdaExecute",
        "path": "/",
        "version": "v1",
        "created": "2015-02-06T18:40:46Z",
        "updated": "2015-02-06T18:40:46Z",
        "description": "Provides Put, Get access to S3 and full access to CloudWatch Logs.",
        "document": _doc(
            _allow(["logs:*"], "arn:aws:logs:*:*:*"), _allow(["s3:GetObject", "s3:PutObject"], "arn:aws:s3:::*")
        ),
    },
    {
        "name": "AWSLambdaRole",
        "path": "/service-role/",
        "version": "v1",
        "created": "2015-02-06T18:41:28Z",
        "updated": "2015-02-06T18:41:28Z",
        "description": "Default policy for AWS Lambda service role.",
        "document": _doc(_allow(["lambda:InvokeFunction"], ["*"])),
    },
    {
        "name": "AWSLambdaSQSQueueExecutionRole",
        "path": "/service-role/",
        "version": "v1",
        "created": "2018-06-14T21:50:45Z",
        "updated": "2018-06-14T21:50:45Z",
        "description": "Provides receive message, delete message, and read attribute access to SQS queues, and write"
        " permissions to CloudWatch logs.",
        "document": _doc(_allow(["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes", *_LOGS_WRITE])),
    },
    {
        "name": "AWSLambdaKinesisExecutionRole",
        "path": "/service-role/",
        "version": "v2",
        "created": "2015-04-09T15:14:16Z",
        "updated": "2018-11-19T20:09:24Z",
        "description": "Provides list and read access to Kinesis streams and write permissions to CloudWatch logs.",
        "document": _doc(
            _allow(
                [
                    "kinesis:DescribeStream",
                    "kinesis:DescribeStreamSummary",
                    "kinesis:GetRecords",
                    "kinesis:GetShardIterator",
                    "kinesis:ListShards",
                    "kinesis:ListStreams",
                    "kinesis:SubscribeToShard",
                    *_LOGS_WRITE,
                ]
            )
        ),
    },
    {
        "name": "AWSLambdaDynamoDBExecutionRole",
        "path": "/service-role/",
        "version": "v1",
        "created": "2015-04-09T15:09:29Z",
        "updated": "2015-04-09T15:09:29Z",
        "description": "Provides list and read access to DynamoDB streams and write permissions to CloudWatch logs.",
        "document": _doc(
            _allow(
                [
                    "dynamodb:DescribeStream",
                    "dynamodb:GetRecords",
                    "dynamodb:GetShardIterator",
                    "dynamodb:ListStreams",
                    *_LOGS_WRITE,
                ]
            )
        ),
    },
    {
        "name": "AWSLambdaVPCAccessExecutionRole",
        "path": "/service-role/",
        "version": "v3",
        "created": "2016-02-11T23:15:26Z",
        "updated": "2024-01-05T22:38:26Z",
        "description": "Provides minimum permissions for a Lambda function to execute while accessing a resource within"
        " a VPC - create, describe, delete network interfaces and write permissions to CloudWatch Logs. ",
        "document": _doc(
            _allow(
                [
                    *_LOGS_WRITE,
                    "ec2:CreateNetworkInterface",
                    "ec2:DescribeNetworkInterfaces",
                    "ec2:DescribeSubnets",
                    "ec2:DeleteNetworkInterface",
                    "ec2:AssignPrivateIpAddresses",
                    "ec2:UnassignPrivateIpAddresses",
                ],
                Sid="AWSLambdaVPCAccessExecutionPermissions",
            )
        ),
    },
    {
        "name": "AWSLambda_FullAccess",
        "path": "/",
        "version": "v1",
        "created": "2020-11-23T18:30:00Z",
        "updated": "2020-11-23T18:30:00Z",
        "description": "Grants full access to AWS Lambda service, AWS Lambda console features, and other related AWS"
        " services.",
        "document": _doc(
            _allow(
                [
                    "cloudformation:DescribeStacks",
                    "cloudformation:ListStackResources",
                    "cloudwatch:ListMetrics",
                    "cloudwatch:GetMetricData",
                    "ec2:DescribeSecurityGroups",
                    "ec2:DescribeSubnets",
                    "ec2:DescribeVpcs",
                    "kms:ListAliases",
                    "iam:GetPolicy",
                    "iam:GetPolicyVersion",
                    "iam:GetRole",
                    "iam:GetRolePolicy",
                    "iam:ListAttachedRolePolicies",
                    "iam:ListRolePolicies",
                    "iam:ListRoles",
                    "lambda:*",
                    "logs:DescribeLogGroups",
                    "states:DescribeStateMachine",
                    "states:ListStateMachines",
                    "tag:GetResources",
                    "xray:GetTraceSummaries",
                    "xray:BatchGetTraces",
                ]
            ),
            _allow("iam:PassRole", "*", Condition={"StringEquals": {"iam:PassedToService": "lambda.amazonaws.com"}}),
            _allow(
                ["logs:DescribeLogStreams", "logs:GetLogEvents", "logs:FilterLogEvents", "logs:StartLiveTail"],
                "arn:aws:logs:*:*:log-group:/aws/lambda/*",
            ),
        ),
    },
    {
        "name": "AWSLambda_ReadOnlyAccess",
        "path": "/",
        "version": "v1",
        "created": "2020-11-23T18:30:00Z",
        "updated": "2020-11-23T18:30:00Z",
        "description": "Grants read-only access to AWS Lambda service, AWS Lambda console features, and other related"
        " AWS services.",
        "document": _doc(
            _allow(
                [
                    "cloudformation:DescribeStacks",
                    "cloudformation:ListStackResources",
                    "cloudwatch:GetMetricData",
                    "cloudwatch:ListMetrics",
                    "ec2:DescribeSecurityGroups",
                    "ec2:DescribeSubnets",
                    "ec2:DescribeVpcs",
                    "iam:GetPolicy",
                    "iam:GetPolicyVersion",
                    "iam:GetRole",
                    "iam:GetRolePolicy",
                    "iam:ListAttachedRolePolicies",
                    "iam:ListRolePolicies",
                    "iam:ListRoles",
                    "lambda:Get*",
                    "lambda:List*",
                    "logs:DescribeLogGroups",
                    "states:DescribeStateMachine",
                    "states:ListStateMachines",
                    "tag:GetResources",
                    "xray:GetTraceSummaries",
                    "xray:BatchGetTraces",
                ]
            ),
            _allow(
                ["logs:DescribeLogStreams", "logs:GetLogEvents", "logs:FilterLogEvents"],
                "arn:aws:logs:*:*:log-group:/aws/lambda/*",
            ),
        ),
    },
    {
        "name": "AmazonSQSFullAccess",
        "path": "/",
        "version": "v1",
        "created": "2015-02-06T18:41:07Z",
        "updated": "2015-02-06T18:41:07Z",
        "description": "Provides full access to Amazon SQS via the AWS Management Console.",
        "document": _doc(_allow(["sqs:*"])),
    },
    {
        "name": "AmazonSQSReadOnlyAccess",
        "path": "/",
        "version": "v3",
        "created": "2015-02-06T18:41:08Z",
        "updated": "2021-08-10T20:00:00Z",
        "description": "Provides read only access to Amazon SQS via the AWS Management Console.",
        "document": _doc(
            _allow(
                [
                    "sqs:GetQueueAttributes",
                    "sqs:GetQueueUrl",
                    "sqs:ListDeadLetterSourceQueues",
                    "sqs:ListQueues",
                    "sqs:ListMessageMoveTasks",
                    "sqs:ListQueueTags",
                ]
            )
        ),
    },
    {
        "name": "AmazonSNSFullAccess",
        "path": "/",
        "version": "v2",
        "created": "2015-02-06T18:41:05Z",
        "updated": "2024-09-24T22:32:05Z",
        "description": "Provides full access to Amazon SNS via the AWS Management Console.",
        "document": _doc(
            _allow(["sns:*"], Sid="SNSFullAccess"),
            _allow(
                [
                    "sms-voice:DescribeVerifiedDestinationNumbers",
                    "sms-voice:CreateVerifiedDestinationNumber",
                    "sms-voice:SendDestinationNumberVerificationCode",
                    "sms-voice:SendTextMessage",
                    "sms-voice:DeleteVerifiedDestinationNumber",
                    "sms-voice:VerifyDestinationNumber",
                    "sms-voice:DescribeAccountAttributes",
                    "sms-voice:DescribeSpendLimits",
                    "sms-voice:DescribePhoneNumbers",
                    "sms-voice:SetTextMessageSpendLimitOverride",
                    "sms-voice:DescribeOptedOutNumbers",
                    "sms-voice:DeleteOptedOutNumber",
                ],
                Sid="SMSAccessViaSNS",
                Condition={"StringEquals": {"aws:CalledViaLast": "sns.amazonaws.com"}},
            ),
        ),
    },
    {
        "name": "AmazonSNSReadOnlyAccess",
        "path": "/",
        "version": "v1",
        "created": "2015-02-06T18:41:06Z",
        "updated": "2015-02-06T18:41:06Z",
        "description": "Provides read only access to Amazon SNS via the AWS Management Console.",
        "document": _doc(_allow(["sns:GetTopicAttributes", "sns:List*"])),
    },
    {
        "name": "AmazonKinesisFullAccess",
        "path": "/",
        "version": "v1",
        "created": "2015-02-06T18:40:29Z",
        "updated": "2015-02-06T18:40:29Z",
        "description": "Provides full access to all streams via the AWS Management Console.",
        "document": _doc(_allow("kinesis:*")),
    },
    {
        "name": "AmazonKinesisReadOnlyAccess",
        "path": "/",
        "version": "v1",
        "created": "2015-02-06T18:40:30Z",
        "updated": "2015-02-06T18:40:30Z",
        "description": "Provides read only access to all streams via the AWS Management Console.",
        "document": _doc(_allow(["kinesis:Get*", "kinesis:List*", "kinesis:Describe*"])),
    },
    {
        "name": "CloudWatchLogsFullAccess",
        "path": "/",
        "version": "v3",
        "created": "2015-02-06T18:40:02Z",
        "updated": "2026-02-12T18:00:33Z",
        "description": "Provides full access to CloudWatch Logs",
        "document": _doc(
            _allow(
                [
                    "logs:*",
                    "cloudwatch:GenerateQuery",
                    "cloudwatch:GenerateQueryResultsSummary",
                    "observabilityadmin:GetS3TableIntegration",
                    "observabilityadmin:ListS3TableIntegrations",
                    "observabilityadmin:ListTelemetryPipelines",
                ],
                Sid="CloudWatchLogsFullAccess",
            )
        ),
    },
    {
        "name": "CloudWatchLogsReadOnlyAccess",
        "path": "/",
        "version": "v4",
        "created": "2015-02-06T18:40:03Z",
        "updated": "2023-12-12T18:00:00Z",
        "description": "Provides read only access to CloudWatch Logs",
        "document": _doc(
            _allow(
                [
                    "logs:Describe*",
                    "logs:Get*",
                    "logs:List*",
                    "logs:StartQuery",
                    "logs:StopQuery",
                    "logs:TestMetricFilter",
                    "logs:FilterLogEvents",
                    "logs:StartLiveTail",
                    "logs:StopLiveTail",
                    "cloudwatch:GenerateQuery",
                ],
                Sid="CloudWatchLogsReadOnlyAccess",
            )
        ),
    },
    {
        "name": "AmazonAPIGatewayInvokeFullAccess",
        "path": "/",
        "version": "v2",
        "created": "2015-07-09T18:34:35Z",
        "updated": "2021-03-22T19:00:00Z",
        "description": "Provides full access to invoke APIs in Amazon API Gateway.",
        "document": _doc(_allow(["execute-api:Invoke", "execute-api:ManageConnections"], "arn:aws:execute-api:*:*:*")),
    },
    {
        "name": "AmazonAPIGatewayPushToCloudWatchLogs",
        "path": "/service-role/",
        "version": "v1",
        "created": "2015-11-11T23:41:46Z",
        "updated": "2015-11-11T23:41:46Z",
        "description": "Allows API Gateway to push logs to user's account.",
        "document": _doc(
            _allow(
                [
                    "logs:CreateLogGroup",
                    "logs:CreateLogStream",
                    "logs:DescribeLogGroups",
                    "logs:DescribeLogStreams",
                    "logs:PutLogEvents",
                    "logs:GetLogEvents",
                    "logs:FilterLogEvents",
                ]
            )
        ),
    },
    {
        "name": "AmazonS3FullAccess",
        "path": "/",
        "version": "v2",
        "created": "2015-02-06T18:40:58Z",
        "updated": "2021-09-27T20:16:37Z",
        "description": "Provides full access to all buckets via the AWS Management Console.",
        "document": _doc(_allow(["s3:*", "s3-object-lambda:*"])),
    },
    {
        "name": "AmazonS3ReadOnlyAccess",
        "path": "/",
        "version": "v3",
        "created": "2015-02-06T18:40:59Z",
        "updated": "2023-08-10T21:31:39Z",
        "description": "Provides read only access to all buckets via the AWS Management Console.",
        "document": _doc(
            _allow(["s3:Get*", "s3:List*", "s3:Describe*", "s3-object-lambda:Get*", "s3-object-lambda:List*"])
        ),
    },
    {
        "name": "AmazonDynamoDBFullAccess",
        "path": "/",
        "version": "v5",
        "created": "2015-02-06T18:40:11Z",
        "updated": "2019-05-08T21:20:48Z",
        "description": "Provides full access to Amazon DynamoDB via the AWS Management Console.",
        "document": _doc(
            _allow(
                [
                    "dynamodb:*",
                    "dax:*",
                    "application-autoscaling:DeleteScalingPolicy",
                    "application-autoscaling:DeregisterScalableTarget",
                    "application-autoscaling:DescribeScalableTargets",
                    "application-autoscaling:DescribeScalingActivities",
                    "application-autoscaling:DescribeScalingPolicies",
                    "application-autoscaling:PutScalingPolicy",
                    "application-autoscaling:RegisterScalableTarget",
                    "cloudwatch:DeleteAlarms",
                    "cloudwatch:DescribeAlarmHistory",
                    "cloudwatch:DescribeAlarms",
                    "cloudwatch:DescribeAlarmsForMetric",
                    "cloudwatch:GetMetricStatistics",
                    "cloudwatch:ListMetrics",
                    "cloudwatch:PutMetricAlarm",
                    "cloudwatch:GetMetricData",
                    "kinesis:ListStreams",
                    "kinesis:DescribeStream",
                    "kinesis:DescribeStreamSummary",
                    "iam:GetRole",
                    "iam:ListRoles",
                    "kms:DescribeKey",
                    "kms:ListAliases",
                    "sns:CreateTopic",
                    "sns:DeleteTopic",
                    "sns:ListSubscriptions",
                    "sns:ListSubscriptionsByTopic",
                    "sns:ListTopics",
                    "sns:Subscribe",
                    "sns:Unsubscribe",
                    "sns:SetTopicAttributes",
                    "lambda:CreateFunction",
                    "lambda:ListFunctions",
                    "lambda:ListEventSourceMappings",
                    "lambda:CreateEventSourceMapping",
                    "lambda:DeleteEventSourceMapping",
                    "lambda:GetFunctionConfiguration",
                    "lambda:DeleteFunction",
                    "resource-groups:ListGroups",
                    "resource-groups:ListGroupResources",
                    "resource-groups:GetGroup",
                    "resource-groups:GetGroupQuery",
                    "resource-groups:DeleteGroup",
                    "resource-groups:CreateGroup",
                    "tag:GetResources",
                ]
            ),
            _allow(
                "iam:PassRole",
                "*",
                Condition={
                    "StringLike": {
                        "iam:PassedToService": [
                            "application-autoscaling.amazonaws.com",
                            "application-autoscaling.amazonaws.com.cn",
                            "dax.amazonaws.com",
                        ]
                    }
                },
            ),
        ),
    },
    {
        "name": "AmazonDynamoDBReadOnlyAccess",
        "path": "/",
        "version": "v9",
        "created": "2015-02-06T18:40:12Z",
        "updated": "2023-03-06T18:00:00Z",
        "description": "Provides read only access to Amazon DynamoDB via the AWS Management Console.",
        "document": _doc(
            _allow(
                [
                    "dynamodb:BatchGetItem",
                    "dynamodb:Describe*",
                    "dynamodb:List*",
                    "dynamodb:GetItem",
                    "dynamodb:Query",
                    "dynamodb:Scan",
                    "dynamodb:PartiQLSelect",
                    "dax:Describe*",
                    "dax:List*",
                    "dax:GetItem",
                    "dax:BatchGetItem",
                    "dax:Query",
                    "dax:Scan",
                    "cloudwatch:DescribeAlarms",
                    "cloudwatch:GetMetricData",
                    "iam:GetRole",
                    "iam:ListRoles",
                    "kms:DescribeKey",
                    "kms:ListAliases",
                    "sns:ListSubscriptionsByTopic",
                    "sns:ListTopics",
                    "lambda:ListFunctions",
                    "lambda:ListEventSourceMappings",
                    "lambda:GetFunctionConfiguration",
                    "tag:GetResources",
                ]
            )
        ),
    },
    {
        "name": "AWSStepFunctionsFullAccess",
        "path": "/",
        "version": "v2",
        "created": "2016-12-01T18:48:48Z",
        "updated": "2022-03-10T18:00:00Z",
        "description": "An access policy for providing a user/role/etc access to the AWS StepFunctions API. For full"
        " access, in addition to this policy, a user MUST have iam:PassRole permission on at least one IAM role that"
        " can be assumed by the service.",
        "document": _doc(
            _allow("states:*"),
            _allow("iam:PassRole", "arn:aws:iam::*:role/service-role/StepFunctions*"),
            _allow(["xray:GetTraceSummaries", "xray:BatchGetTraces"]),
        ),
    },
    {
        "name": "AmazonEventBridgeFullAccess",
        "path": "/",
        "version": "v2",
        "created": "2019-07-11T17:00:00Z",
        "updated": "2021-03-02T18:00:00Z",
        "description": "Provides full access to Amazon EventBridge.",
        "document": _doc(
            _allow(["events:*", "schemas:*", "scheduler:*", "pipes:*"], Sid="EventBridgeActions"),
            _allow(
                "iam:PassRole",
                "arn:aws:iam::*:role/*",
                Sid="IAMPassRoleAccessForEventBridge",
                Condition={"StringLike": {"iam:PassedToService": "events.amazonaws.com"}},
            ),
            _allow(
                "iam:PassRole",
                "arn:aws:iam::*:role/*",
                Sid="IAMPassRoleAccessForScheduler",
                Condition={"StringLike": {"iam:PassedToService": "scheduler.amazonaws.com"}},
            ),
            _allow(
                "iam:PassRole",
                "arn:aws:iam::*:role/*",
                Sid="IAMPassRoleAccessForPipes",
                Condition={"StringLike": {"iam:PassedToService": "pipes.amazonaws.com"}},
            ),
            _allow(
                "iam:CreateServiceLinkedRole",
                "arn:aws:iam::*:role/aws-service-role/apidestinations.events.amazonaws.com/"
                "AWSServiceRoleForAmazonEventBridgeApiDestinations",
                Sid="ApiDestinationActions",
                Condition={"StringLike": {"iam:AWSServiceName": "apidestinations.events.amazonaws.com"}},
            ),
        ),
    },
    {
        "name": "AWSXRayDaemonWriteAccess",
        "path": "/",
        "version": "v1",
        "created": "2018-08-28T23:00:33Z",
        "updated": "2018-08-28T23:00:33Z",
        "description": "Allow the AWS X-Ray Daemon to relay raw trace segments data to the service's API and retrieve"
        " sampling data (rules, targets, etc.) to be used by the X-Ray SDK.",
        "document": _doc(
            _allow(
                [
                    "xray:PutTraceSegments",
                    "xray:PutTelemetryRecords",
                    "xray:GetSamplingRules",
                    "xray:GetSamplingTargets",
                    "xray:GetSamplingStatisticSummaries",
                ]
            )
        ),
    },
)
