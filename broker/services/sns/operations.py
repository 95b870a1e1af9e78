"""Every Amazon SNS operation this broker serves, by its AWS name: one function each, in the module of its part of
the API (topics, subscriptions, publishing, mobile push, SMS)."""

from __future__ import annotations

from broker.services.sns import mobile, publishing, sms, subscription_operations, topic_operations

HANDLERS = {
    "CreateTopic": topic_operations.create_topic,
    "DeleteTopic": topic_operations.delete_topic,
    "GetTopicAttributes": topic_operations.get_topic_attributes,
    "SetTopicAttributes": topic_operations.set_topic_attributes,
    "ListTopics": topic_operations.list_topics,
    "TagResource": topic_operations.tag_resource,
    "UntagResource": topic_operations.untag_resource,
    "ListTagsForResource": topic_operations.list_tags_for_resource,
    "AddPermission": topic_operations.add_permission,
    "RemovePermission": topic_operations.remove_permission,
    "GetDataProtectionPolicy": topic_operations.get_data_protection_policy,
    "PutDataProtectionPolicy": topic_operations.put_data_protection_policy,
    "Subscribe": subscription_operations.subscribe,
    "ConfirmSubscription": subscription_operations.confirm_subscription,
    "Unsubscribe": subscription_operations.unsubscribe,
    "GetSubscriptionAttributes": subscription_operations.get_subscription_attributes,
    "SetSubscriptionAttributes": subscription_operations.set_subscription_attributes,
    "ListSubscriptions": subscription_operations.list_subscriptions,
    "ListSubscriptionsByTopic": subscription_operations.list_subscriptions_by_topic,
    "Publish": publishing.publish,
    "PublishBatch": publishing.publish_batch,
    **mobile.HANDLERS,
    **sms.HANDLERS,
}
